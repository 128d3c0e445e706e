using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Jit;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>
/// The JIT against the interpreter and against the same algorithms written in C#, one run per invocation, on
/// the interpreter suite's checksum, sieve and sort and a 64-byte CRC-32 that makes one bpf-to-bpf call per byte
/// (64 calls, the shape of the Linux figure in issue 4); plus the JIT's compile time per instruction.
/// <see cref="Setup"/> checks every engine's result against the C# one, so no figure comes from a wrong run.
/// </summary>
[MemoryDiagnoser]
public class JitBenchmarks
{
    /// <summary>Bitwise reflected CRC-32 (polynomial 0xedb88320) over 64 input bytes, one subprogram call per byte, branch-free per bit (so the verifier explores one path).</summary>
    public const string Crc32Program = """
        mov %r9, %r1
        mov %r6, 0
        mov32 %r8, -1
        loop:
        jge %r6, 64, done
        mov %r3, %r9
        add %r3, %r6
        ldxb %r2, [%r3]
        mov %r1, %r8
        call local crc_byte
        mov %r8, %r0
        add %r6, 1
        ja loop
        done:
        mov32 %r0, %r8
        xor32 %r0, -1
        exit
        crc_byte:
        xor %r1, %r2
        mov %r3, 8
        bit:
        mov %r4, %r1
        and %r4, 1
        neg %r4
        and32 %r4, -306674912
        rsh %r1, 1
        xor %r1, %r4
        sub %r3, 1
        jne %r3, 0, bit
        mov %r0, %r1
        exit
        """;

    /// <summary>256 calls of a three-instruction subprogram (x * x + 1), summed: where a call costs more than its body.</summary>
    public const string SmallCallsProgram = """
        mov %r6, 0
        mov %r7, 0
        loop:
        jge %r6, 256, done
        mov %r1, %r6
        call local square_plus_one
        add %r7, %r0
        add %r6, 1
        ja loop
        done:
        mov %r0, %r7
        exit
        square_plus_one:
        mov %r0, %r1
        mul %r0, %r1
        add %r0, 1
        exit
        """;

    private BpfInterpreter _checksumInterp = null!, _sieveInterp = null!, _sortInterp = null!, _crcInterp = null!;
    private JittedProgram _checksumJit = null!, _sieveJit = null!, _sortJit = null!, _crcJit = null!;
    private JittedProgram _crcJitMethods = null!, _callsInlined = null!, _callsMethods = null!;
    private Instruction[] _crcCode = [];
    private byte[] _packet = [], _flags = [], _values = [], _crcInput = [];

    [GlobalSetup]
    public void Setup()
    {
        var helpers = HelperRegistry.CreateConformance();
        var checksum = ConformanceAssembler.Assemble(InterpreterBenchmarks.ChecksumProgram, "checksum");
        var sieve = ConformanceAssembler.Assemble(InterpreterBenchmarks.SieveProgram, "sieve");
        var sort = ConformanceAssembler.Assemble(InterpreterBenchmarks.SortProgram, "sort");
        _crcCode = ConformanceAssembler.Assemble(Crc32Program, "crc32");
        _checksumInterp = new BpfInterpreter(checksum, helpers);
        _sieveInterp = new BpfInterpreter(sieve, helpers);
        _sortInterp = new BpfInterpreter(sort, helpers);
        _crcInterp = new BpfInterpreter(_crcCode, helpers);
        _checksumJit = BpfJit.Compile(checksum, helpers);
        _sieveJit = BpfJit.Compile(sieve, helpers);
        _sortJit = BpfJit.Compile(sort, helpers);
        _crcJit = BpfJit.Compile(_crcCode, helpers);
        var methods = new BpfJitOptions { InlineSubprograms = false };
        _crcJitMethods = BpfJit.Compile(_crcCode, helpers, options: methods);
        var calls = ConformanceAssembler.Assemble(SmallCallsProgram, "calls");
        _callsInlined = BpfJit.Compile(calls, helpers);
        _callsMethods = BpfJit.Compile(calls, helpers, options: methods);

        var random = new Random(42);
        _packet = new byte[1024];
        random.NextBytes(_packet);
        _flags = new byte[2048];
        _values = new byte[256];
        random.NextBytes(_values);
        _crcInput = new byte[64];
        random.NextBytes(_crcInput);

        Check("checksum", ChecksumCSharp(), _checksumInterp.Run(_packet), _checksumJit.Run(_packet));
        Check("sieve", SieveCSharp(), _sieveInterp.Run(_flags), _sieveJit.Run(_flags));
        var sorted = SortCSharp();
        Check("sort", sorted, _sortInterp.Run(_values), _sortJit.Run(_values));
        Check("crc32", Crc32CSharp(), _crcInterp.Run(_crcInput), _crcJit.Run(_crcInput));
        Check("crc32 (methods)", Crc32CSharp(), _crcInterp.Run(_crcInput), _crcJitMethods.Run(_crcInput));
        // sum over x < 256 of x * x + 1 = 255 * 256 * 511 / 6 + 256.
        Check("calls", (255UL * 256 * 511 / 6) + 256, _callsInlined.Run(_crcInput), _callsMethods.Run(_crcInput));
        // The standard check value of CRC-32/ISO-HDLC: crc("123456789") = 0xcbf43926.
        if (Crc32Of("123456789"u8) != 0xcbf43926)
            throw new InvalidOperationException("crc32: the C# reference misses the standard check value");
    }

    // ---- Checksum (RFC 1071 over 1024 bytes)
    [Benchmark]
    public ulong Checksum_Interpreter() => _checksumInterp.Run(_packet).R0;

    [Benchmark]
    public ulong Checksum_Jit() => _checksumJit.Run(_packet).R0;

    [Benchmark]
    public ulong Checksum_CSharp() => ChecksumCSharp();

    // ---- Sieve (primes below 2048)
    [Benchmark]
    public ulong Sieve_Interpreter() => _sieveInterp.Run(_flags).R0;

    [Benchmark]
    public ulong Sieve_Jit() => _sieveJit.Run(_flags).R0;

    [Benchmark]
    public ulong Sieve_CSharp() => SieveCSharp();

    // ---- Insertion sort of 32 u64 on the stack
    [Benchmark]
    public ulong Sort_Interpreter() => _sortInterp.Run(_values).R0;

    [Benchmark]
    public ulong Sort_Jit() => _sortJit.Run(_values).R0;

    [Benchmark]
    public ulong Sort_CSharp() => SortCSharp();

    // ---- CRC-32 of 64 bytes, 64 subprogram calls
    [Benchmark]
    public ulong Crc32_Interpreter() => _crcInterp.Run(_crcInput).R0;

    [Benchmark]
    public ulong Crc32_Jit() => _crcJit.Run(_crcInput).R0;

    [Benchmark]
    public ulong Crc32_CSharp() => Crc32CSharp();

    /// <summary>The CRC-32 with its subprogram as a separate method (<see cref="BpfJitOptions.InlineSubprograms"/> off).</summary>
    [Benchmark]
    public ulong Crc32_JitMethods() => _crcJitMethods.Run(_crcInput).R0;

    // ---- 256 calls of a tiny subprogram: inlined (the default) against one method per subprogram
    [Benchmark]
    public ulong Calls_JitInlined() => _callsInlined.Run(_crcInput).R0;

    [Benchmark]
    public ulong Calls_JitMethods() => _callsMethods.Run(_crcInput).R0;

    // ---- Compile time per instruction (CRC-32: 27 slots, 2 methods)
    /// <summary>IL emission only (BpfJit.Compile).</summary>
    [Benchmark(OperationsPerInvoke = 27)]
    public JittedProgram Compile_EmitIl() => BpfJit.Compile(_crcCode, HelperRegistry.CreateConformance());

    /// <summary>IL emission plus RyuJIT's compilation of both methods (forced by the first run).</summary>
    [Benchmark(OperationsPerInvoke = 27)]
    public ulong Compile_ToFirstResult() => BpfJit.Compile(_crcCode, HelperRegistry.CreateConformance()).Run(_crcInput).R0;

    // ---- The same algorithms in C#, over the same bytes.
    private ulong ChecksumCSharp()
    {
        ulong sum = 0;
        var data = _packet.AsSpan();
        for (var i = 0; i < data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16LittleEndian(data[i..]);
        sum = (sum & 0xffff) + (sum >> 16);
        sum += sum >> 16;
        return (sum & 0xffff) ^ 0xffff;
    }

    private ulong SieveCSharp()
    {
        var flags = _flags.AsSpan();
        // Byte by byte, as the BPF program clears its input (BPF has no memset); Span.Clear would be a vectorised
        // library call, a different algorithm.
        for (var i = 0; i < flags.Length; i++)
            flags[i] = 0;
        ulong primes = 0;
        for (var i = 2; i < flags.Length; i++)
        {
            if (flags[i] != 0)
                continue;
            primes++;
            for (var j = (long)i * i; j < flags.Length; j += i)
                flags[(int)j] = 1;
        }

        return primes;
    }

    private ulong SortCSharp()
    {
        Span<ulong> a = stackalloc ulong[32];
        for (var i = 0; i < 32; i++)
            a[i] = BinaryPrimitives.ReadUInt64LittleEndian(_values.AsSpan(i * 8));
        for (var i = 1; i < 32; i++)
        {
            var v = a[i];
            var j = i;
            while (j > 0 && a[j - 1] > v)
            {
                a[j] = a[j - 1];
                j--;
            }

            a[j] = v;
        }

        return a[31] - a[0];
    }

    private ulong Crc32CSharp() => Crc32Of(_crcInput);

    private static uint Crc32Of(ReadOnlySpan<byte> data)
    {
        var crc = 0xffffffffu;
        foreach (var b in data)
            crc = CrcByte(crc, b);
        return ~crc;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint CrcByte(uint crc, byte b)
    {
        // A real call per byte, as the BPF program makes one.
        crc ^= b;
        // Branch-free, as the BPF program: the low bit selects the polynomial through a mask.
        for (var k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320 & (0u - (crc & 1)));
        return crc;
    }

    private static void Check(string name, ulong expected, BpfRunResult interpreter, BpfRunResult jit)
    {
        if (!interpreter.Succeeded || !jit.Succeeded || interpreter.R0 != expected || jit.R0 != expected)
            throw new InvalidOperationException(
                $"{name}: C# 0x{expected:x}, interpreter 0x{interpreter.R0:x} {interpreter.Message}, jit 0x{jit.R0:x} {jit.Message}");
    }
}
