using BenchmarkDotNet.Attributes;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>
/// Interpreter throughput on compute-bound programs. Each benchmark runs one program once per invocation and
/// declares its executed-instruction count as OperationsPerInvoke, so the reported mean is nanoseconds per
/// executed BPF instruction. <see cref="Setup"/> checks the counts and results, so a figure never comes from a
/// program that went wrong.
/// </summary>
[MemoryDiagnoser]
public class InterpreterBenchmarks
{
    /// <summary>Internet checksum (RFC 1071) over a 1024-byte buffer: a load/add loop and the carry fold.</summary>
    public const string ChecksumProgram = """
        mov %r0, 0
        mov %r3, %r1
        add %r3, %r2
        loop:
        jge %r1, %r3, done
        ldxh %r4, [%r1]
        add %r0, %r4
        add %r1, 2
        ja loop
        done:
        mov %r4, %r0
        rsh %r4, 16
        and %r0, 0xffff
        add %r0, %r4
        mov %r4, %r0
        rsh %r4, 16
        add %r0, %r4
        and %r0, 0xffff
        xor %r0, 0xffff
        exit
        """;

    /// <summary>Sieve of Eratosthenes over the input buffer (one flag byte per number): counts primes below its length.</summary>
    public const string SieveProgram = """
        mov %r3, 0
        clear:
        jge %r3, %r2, cleared
        mov %r4, %r1
        add %r4, %r3
        stb [%r4], 0
        add %r3, 1
        ja clear
        cleared:
        mov %r0, 0
        mov %r3, 2
        outer:
        jge %r3, %r2, end
        mov %r4, %r1
        add %r4, %r3
        ldxb %r5, [%r4]
        jne %r5, 0, next
        add %r0, 1
        mov %r5, %r3
        mul %r5, %r3
        inner:
        jge %r5, %r2, next
        mov %r4, %r1
        add %r4, %r5
        stb [%r4], 1
        add %r5, %r3
        ja inner
        next:
        add %r3, 1
        ja outer
        end:
        exit
        """;

    /// <summary>Insertion sort of 32 u64 values copied from the input onto the stack; returns max - min.</summary>
    public const string SortProgram = """
        mov %r6, %r10
        add %r6, -256
        mov %r3, 0
        copy:
        jge %r3, 256, copied
        mov %r4, %r1
        add %r4, %r3
        ldxdw %r5, [%r4]
        mov %r4, %r6
        add %r4, %r3
        stxdw [%r4], %r5
        add %r3, 8
        ja copy
        copied:
        mov %r3, 8
        outer:
        jge %r3, 256, sorted
        mov %r4, %r6
        add %r4, %r3
        ldxdw %r5, [%r4]
        mov %r7, %r3
        inner:
        jeq %r7, 0, place
        mov %r4, %r6
        add %r4, %r7
        ldxdw %r8, [%r4-8]
        jle %r8, %r5, place
        stxdw [%r4], %r8
        sub %r7, 8
        ja inner
        place:
        mov %r4, %r6
        add %r4, %r7
        stxdw [%r4], %r5
        add %r3, 8
        ja outer
        sorted:
        ldxdw %r0, [%r6]
        ldxdw %r1, [%r6+248]
        sub %r1, %r0
        mov %r0, %r1
        exit
        """;

    public const int ChecksumInstructions = 2574;
    public const int SieveInstructions = 46362;
    public const int SortInstructions = 2708;

    private BpfInterpreter _checksum = null!;
    private BpfInterpreter _sieve = null!;
    private BpfInterpreter _sort = null!;
    private byte[] _packet = [];
    private byte[] _flags = [];
    private byte[] _values = [];

    /// <summary>Loads the three programs and their inputs, and checks results and instruction counts.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var helpers = HelperRegistry.CreateConformance();
        _checksum = new BpfInterpreter(ConformanceAssembler.Assemble(ChecksumProgram, "checksum"), helpers);
        _sieve = new BpfInterpreter(ConformanceAssembler.Assemble(SieveProgram, "sieve"), helpers);
        _sort = new BpfInterpreter(ConformanceAssembler.Assemble(SortProgram, "sort"), helpers);
        var random = new Random(42);
        _packet = new byte[1024];
        random.NextBytes(_packet);
        _flags = new byte[2048];
        _values = new byte[256];
        random.NextBytes(_values);

        Expect(_checksum.Run(_packet), ReferenceChecksum(_packet), ChecksumInstructions, "checksum");
        Expect(_sieve.Run(_flags), 309, SieveInstructions, "sieve");
        var values = Enumerable.Range(0, 32).Select(i => BitConverter.ToUInt64(_values, i * 8)).ToArray();
        Expect(_sort.Run(_values), values.Max() - values.Min(), SortInstructions, "sort");
    }

    [Benchmark(OperationsPerInvoke = ChecksumInstructions)]
    public ulong Checksum() => _checksum.Run(_packet).R0;

    [Benchmark(OperationsPerInvoke = SieveInstructions)]
    public ulong Sieve() => _sieve.Run(_flags).R0;

    [Benchmark(OperationsPerInvoke = SortInstructions)]
    public ulong Sort() => _sort.Run(_values).R0;

    private static void Expect(BpfRunResult result, ulong r0, long instructions, string name)
    {
        if (!result.Succeeded || result.R0 != r0 || result.InstructionsExecuted != instructions)
            throw new InvalidOperationException(
                $"{name}: r0 = 0x{result.R0:x} (want 0x{r0:x}), {result.InstructionsExecuted} instructions (want {instructions}) {result.Message}");
    }

    private static ulong ReferenceChecksum(byte[] data)
    {
        ulong sum = 0;
        for (var i = 0; i < data.Length; i += 2)
            sum += BitConverter.ToUInt16(data, i);
        sum = (sum & 0xffff) + (sum >> 16);
        sum += sum >> 16;
        return (sum & 0xffff) ^ 0xffff;
    }
}
