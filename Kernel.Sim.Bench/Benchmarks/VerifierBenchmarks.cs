using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Kernel.Sim.Bench.Cli.Bpf;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>
/// Verification speed against the host kernel's verifier on the same socket-filter programs: a long straight
/// line, a branchy program whose if/else diamonds pruning folds, a bounded loop explored iteration by iteration,
/// a state explosion and the issue's clang-compiled 24-element insertion sort (both stopped by the 1,000,000
/// processed-instruction limit). Each category pairs <c>Ours</c> with <c>Host</c> (the baseline: bpf(2)
/// BPF_PROG_LOAD with the log off, the same program type, the fd closed at once), so the Ratio column is
/// KernelSim's time over Linux's. Setup prints both verdicts; a host that refuses to load BPF, or a verdict that
/// differs, fails the Host benchmarks with the reason instead of timing something else.
/// </summary>
[MemoryDiagnoser]
[MinColumn] // the machine is shared: Min is the figure to compare, Mean carries other sessions' load
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class VerifierBenchmarks
{
    private const string SortObject = "Kernel.Sim.Tests/Bpf/Verifier/Programs/insertion_sort24.o";

    private readonly VerifierOptions options = new() { ProgramType = ProgramTypeRegistry.CreateDefault().Get("socket_filter") };
    private readonly Dictionary<string, Instruction[]> programs = [];
    private readonly Dictionary<string, string> hostProblems = [];

    [GlobalSetup]
    public void Setup()
    {
        programs["StraightLine"] = StraightLine();
        programs["Branchy"] = Branchy();
        programs["BoundedLoop"] = BoundedLoop();
        programs["StateExplosion"] = StateExplosion();
        programs["InsertionSort24"] = InsertionSort24();
        foreach (var (name, program) in programs)
        {
            var ours = Verifier.Verify(program, options);
            var host = HostBpf.LoadWithoutLog(program, options);
            var hostText = !host.Available ? "host refused: " + host.Note : host.Accepted ? "accepted" : $"rejected (errno {host.Errno})";
            Console.WriteLine($"// {name}: {program.Length} insns; kernelsim {(ours.Accepted ? "accepted" : "rejected: " + ours.Error)}, {ours.Trailer}; host {hostText}");
            if (!host.Available)
                hostProblems[name] = "the host kernel cannot be asked: " + host.Note;
            else if (host.Accepted != ours.Accepted)
                hostProblems[name] = $"the verdicts differ (kernelsim {(ours.Accepted ? "accepts" : "rejects")}, host {(host.Accepted ? "accepts" : "rejects")}): no ratio";
        }
    }

    [Benchmark, BenchmarkCategory("StraightLine")]
    public bool Ours_StraightLine() => Ours("StraightLine");

    [Benchmark(Baseline = true), BenchmarkCategory("StraightLine")]
    public bool Host_StraightLine() => Host("StraightLine");

    [Benchmark, BenchmarkCategory("Branchy")]
    public bool Ours_Branchy() => Ours("Branchy");

    [Benchmark(Baseline = true), BenchmarkCategory("Branchy")]
    public bool Host_Branchy() => Host("Branchy");

    [Benchmark, BenchmarkCategory("BoundedLoop")]
    public bool Ours_BoundedLoop() => Ours("BoundedLoop");

    [Benchmark(Baseline = true), BenchmarkCategory("BoundedLoop")]
    public bool Host_BoundedLoop() => Host("BoundedLoop");

    [Benchmark, BenchmarkCategory("StateExplosion")]
    public bool Ours_StateExplosion() => Ours("StateExplosion");

    [Benchmark(Baseline = true), BenchmarkCategory("StateExplosion")]
    public bool Host_StateExplosion() => Host("StateExplosion");

    [Benchmark, BenchmarkCategory("InsertionSort24")]
    public bool Ours_InsertionSort24() => Ours("InsertionSort24");

    [Benchmark(Baseline = true), BenchmarkCategory("InsertionSort24")]
    public bool Host_InsertionSort24() => Host("InsertionSort24");

    private bool Ours(string name) => Verifier.Verify(programs[name], options).Accepted;

    private bool Host(string name)
    {
        if (hostProblems.TryGetValue(name, out var why))
            throw new InvalidOperationException($"{name}: {why}");
        return HostBpf.LoadWithoutLog(programs[name], options).Accepted;
    }

    /// <summary>4,002 instructions: additions alternating with reads of the first twelve <c>__sk_buff</c> words.</summary>
    internal static Instruction[] StraightLine(int length = 4000)
    {
        var s = new List<Instruction> { Instruction.Mov64Imm(0, 0) };
        for (var i = 0; i < length; i++)
            s.Add(i % 2 == 0 ? Instruction.Alu64Imm(BPF_ADD, 0, i) : Instruction.LoadMem(BPF_W, 3, 1, (short)(i % 12 * 4)));
        s.Add(Instruction.Exit());
        return [.. s];
    }

    /// <summary>
    /// 200 independent if/else diamonds (2^200 paths), each on a fresh read of a <c>__sk_buff</c> word: each arm sets
    /// r2 differently, the join folds it into r0, and the next diamond overwrites r2 and r4, so at every diamond's
    /// head the two arms differ only in r0, which no jump decides (imprecise): pruning folds them and the work grows
    /// linearly. (Re-testing the same register's bits would decide later jumps, make it precise and explode.)
    /// </summary>
    internal static Instruction[] Branchy(int diamonds = 200)
    {
        var b = new List<Instruction> { Instruction.Mov64Imm(0, 0) };
        for (var i = 0; i < diamonds; i++)
        {
            b.Add(Instruction.LoadMem(BPF_W, 4, 1, (short)(i % 12 * 4)));
            b.Add(Instruction.JumpImm(BPF_JSET, 4, 1 << (i % 31), 2));
            b.Add(Instruction.Mov64Imm(2, i));
            b.Add(Instruction.Ja(1));
            b.Add(Instruction.Mov64Imm(2, i + 1));
            b.Add(Instruction.Alu64Reg(BPF_XOR, 0, 2));
            b.Add(Instruction.Alu64Imm(BPF_AND, 0, 1));
        }

        b.Add(Instruction.Exit());
        return [.. b];
    }

    /// <summary>A loop of 10,000 iterations (30,003 processed instructions): no two iterations' states alike.</summary>
    private static Instruction[] BoundedLoop() =>
    [
        Instruction.Mov64Imm(0, 0),
        Instruction.Mov64Imm(2, 0),
        Instruction.Alu64Reg(BPF_ADD, 0, 2),
        Instruction.Alu64Imm(BPF_ADD, 2, 1),
        Instruction.JumpImm(BPF_JLT, 2, 10000, -3),
        Instruction.Exit(),
    ];

    /// <summary>40 tests of bits of skb->len, each adding a different power of two to r0, which a last jump decides on: no state covers another.</summary>
    private static Instruction[] StateExplosion()
    {
        var e = new List<Instruction> { Instruction.LoadMem(BPF_W, 6, 1, 0), Instruction.Mov64Imm(0, 0) };
        for (var i = 0; i < 40; i++)
        {
            e.Add(Instruction.JumpImm(BPF_JSET, 6, 1 << (i % 31), 1));
            e.Add(Instruction.Alu64Imm(BPF_ADD, 0, 1 << (i % 20)));
        }

        e.Add(Instruction.JumpImm(BPF_JEQ, 0, 12345, 0));
        e.Add(Instruction.Exit());
        return [.. e];
    }

    /// <summary>The clang-14 -O2 object of <c>insertion_sort24.c</c> (committed with its source and build.sh).</summary>
    private static Instruction[] InsertionSort24()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KernelSim.sln")))
            dir = dir.Parent;
        if (dir is null)
            throw new FileNotFoundException($"{SortObject}: no KernelSim.sln above {AppContext.BaseDirectory}");
        var obj = BpfObject.LoadFile(Path.Combine(dir.FullName, SortObject));
        return [.. obj.Programs.Single(p => p.Name == "insertion_sort24").Instructions];
    }
}

/// <summary>
/// How verification time grows with program size: the straight line and the branchy program of
/// <see cref="VerifierBenchmarks"/> at several lengths (instructions for the straight line, if/else diamonds of
/// seven instructions each for the branchy one; 32,000 keeps the branchy one under Linux's 8,192 pending jumps).
/// Linear growth shows as a constant time per instruction.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
public class VerifierScalingBenchmarks
{
    private readonly VerifierOptions options = new() { ProgramType = ProgramTypeRegistry.CreateDefault().Get("socket_filter") };
    private Instruction[] straight = [];
    private Instruction[] branchy = [];

    [Params(1_000, 4_000, 16_000, 32_000)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        straight = VerifierBenchmarks.StraightLine(Size);
        branchy = VerifierBenchmarks.Branchy(Size / 7);
        foreach (var program in new[] { straight, branchy })
        {
            var result = Verifier.Verify(program, options);
            if (!result.Accepted)
                throw new InvalidOperationException($"{program.Length} insns rejected: {result.Error}");
        }
    }

    [Benchmark]
    public bool StraightLine() => Verifier.Verify(straight, options).Accepted;

    [Benchmark]
    public bool Branchy() => Verifier.Verify(branchy, options).Accepted;
}
