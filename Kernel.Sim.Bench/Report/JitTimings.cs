using System.Buffers.Binary;
using System.Diagnostics;
using Kernel.Sim.Bench.Benchmarks;
using Kernel.Sim.Bench.Cli.Bpf;
using Kernel.Sim.Bpf;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Jit;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Bench.Report;

/// <summary>One program timed on the interpreter, the JIT and (where it can run there) the host kernel; ns per run, NaN when not run.</summary>
public sealed record JitTiming(string Program, double InterpreterNs, double JitNs, double HostNs, string? HostNote);

/// <summary>
/// Stopwatch timings of BPF programs for the report's "JIT against interpreter against the host kernel's JIT"
/// section: the compute-bound programs of <see cref="JitBenchmarks"/> (raw programs over a memory buffer, which the
/// host cannot test-run) and the clang-built <c>xdp_filter.o</c> (an XDP program the host can test-run through
/// BPF_PROG_TEST_RUN: loaded and run, never attached). Each figure is the minimum over <c>repetitions</c> runs
/// of <c>runs</c> runs after one warm-up run, and every engine's r0 is checked against the interpreter's.
/// </summary>
public static class JitTimings
{
    /// <summary>The embedded XDP object (Kernel.Sim.Tests/Bpf/Elf/Programs/xdp_filter.c, clang-14 -O2).</summary>
    public const string XdpObject = "xdp_filter.o";

    /// <summary>The program of <see cref="XdpObject"/> that is timed.</summary>
    public const string XdpProgram = "xdp_drop_discard";

    /// <summary>Times every program; <paramref name="runs"/> is scaled down for the slow ones so the whole takes about a second.</summary>
    public static IReadOnlyList<JitTiming> Run(int runs, int repetitions)
    {
        var helpers = HelperRegistry.CreateConformance();
        var random = new Random(42);
        byte[] Bytes(int n, bool fill)
        {
            var b = new byte[n];
            if (fill)
                random.NextBytes(b);
            return b;
        }

        var results = new List<JitTiming>
        {
            Raw("checksum (1024 B)", InterpreterBenchmarks.ChecksumProgram, Bytes(1024, true), runs, repetitions, helpers),
            Raw("sieve (< 2048)", InterpreterBenchmarks.SieveProgram, Bytes(2048, false), Math.Max(1, runs / 10), repetitions, helpers),
            Raw("sort (32 u64)", InterpreterBenchmarks.SortProgram, Bytes(256, true), runs, repetitions, helpers),
            Raw("crc32 (64 calls)", JitBenchmarks.Crc32Program, Bytes(64, true), runs, repetitions, helpers),
            Xdp(runs * 10, repetitions),
        };
        return results;
    }

    /// <summary>An Ethernet/IPv4/UDP packet to port 9 (what xdp_filter drops), padded to 64 bytes.</summary>
    public static byte[] UdpDiscardPacket()
    {
        var p = new byte[64];
        p[12] = 0x08;
        p[14] = 0x45;
        p[14 + 9] = 17;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(34 + 2), 9);
        return p;
    }

    private static JitTiming Raw(string name, string text, byte[] memory, int runs, int repetitions, HelperRegistry helpers)
    {
        var code = ConformanceAssembler.Assemble(text, name);
        var interpreter = new BpfInterpreter(code, helpers);
        var jit = BpfJit.Compile(code, helpers);
        var expected = Check(name, interpreter.Run(memory), null);
        Check(name, jit.Run(memory), expected);
        var interpNs = Time(runs, repetitions, () => interpreter.Run(memory).R0);
        var jitNs = Time(runs, repetitions, () => jit.Run(memory).R0);
        return new JitTiming(name, interpNs, jitNs, double.NaN, "a raw program over a memory buffer: no host program type runs it");
    }

    private static JitTiming Xdp(int runs, int repetitions)
    {
        using var stream = typeof(JitTimings).Assembly.GetManifestResourceStream(XdpObject)
                           ?? throw new InvalidOperationException($"{XdpObject} is not embedded in the kernelsim assembly");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var obj = BpfObject.Load(copy.ToArray(), XdpObject);
        var spec = obj.Programs.First(p => p.Name == XdpProgram);
        var packet = UdpDiscardPacket();
        var interpNs = TimeObject(obj, spec.TypeName, packet, jit: false, runs, repetitions, out var expected);
        var jitNs = TimeObject(obj, spec.TypeName, packet, jit: true, runs, repetitions, out var jitR0);
        if (jitR0 != expected)
            throw new InvalidOperationException($"{XdpProgram}: interpreter r0 0x{expected:x}, JIT 0x{jitR0:x}");

        // The host's BPF_PROG_TEST_RUN loops inside the kernel and reports its own mean; best of the repetitions.
        var host = double.NaN;
        string? note = null;
        for (var i = 0; i < repetitions; i++)
        {
            var run = HostBpf.RunObject(obj, spec, [], packet, runs);
            if (!run.Ran)
            {
                note = run.Note;
                break;
            }

            if (run.R0 != expected)
            {
                note = $"the host returned r0 0x{run.R0:x}, the simulation 0x{expected:x}";
                host = double.NaN;
                break;
            }

            host = double.IsNaN(host) ? run.DurationNs : Math.Min(host, run.DurationNs);
        }

        return new JitTiming($"{XdpObject} {XdpProgram}", interpNs, jitNs, host, note);
    }

    private static double TimeObject(BpfObject obj, string typeName, byte[] packet, bool jit, int runs, int repetitions, out ulong r0)
    {
        using var bpf = new BpfSubsystem();
        var instance = BpfObjectInstance.Load(obj, bpf, ProgramTypeRegistry.CreateDefault(), jit);
        var program = instance.Programs[XdpProgram];
        if (!program.IsLoaded)
            throw new InvalidOperationException($"{XdpProgram} does not load: {program.NotLoadedReason}");
        using var rc = instance.CreateContext(typeName, [], packet);
        r0 = Check(XdpProgram, program.Run(rc.Memory), null);
        // As `kernelsim bpf exec --repeat` and BPF_PROG_TEST_RUN's repeat loop: the same context every run.
        return Time(runs, repetitions, () => program.Run(rc.Memory).R0);
    }

    private static ulong Check(string name, BpfRunResult result, ulong? expected)
    {
        if (!result.Succeeded || (expected is { } e && result.R0 != e))
            throw new InvalidOperationException($"{name}: r0 0x{result.R0:x} {result.Message}, expected 0x{expected:x}");
        return result.R0;
    }

    private static double Time(int runs, int repetitions, Func<ulong> once)
    {
        ulong sink = once();
        var best = double.MaxValue;
        for (var r = 0; r < repetitions; r++)
        {
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < runs; i++)
                sink ^= once();
            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalNanoseconds / runs);
        }

        GC.KeepAlive(sink);
        return best;
    }
}
