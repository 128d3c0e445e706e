using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;
using Kernel.Sim.Native;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>
/// The native lab's generated x86-64 call loops under BenchmarkDotNet: one benchmark invocation runs
/// <see cref="Calls"/> calls of one mechanism under one target pattern (dependent chain), so the reported time is
/// per call. The same loops as <c>kernelsim lab</c>, with BenchmarkDotNet's statistics instead of the lab's
/// min/median/max and TSC-derived cycles. x86-64 Linux only (GlobalSetup fails with the reason elsewhere).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(WideCaseColumn))]
[ModelledBy(typeof(NativeLabModel))]
public unsafe class NativeLabBenchmarks
{
    /// <summary>Calls per invocation.</summary>
    public const int Calls = 100_000;

    private CallLoopImage? _image;
    private TargetTable? _table;
    private NativeMechanism _mechanism;

    /// <summary>Every measured mechanism and pattern, as <c>mechanism/pattern</c>.</summary>
    public static IEnumerable<string> Cases() =>
        NativeMechanisms.All.SelectMany(m => m.Patterns().Select(p => $"{m.Name()}/{p.Name()}"));

    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "direct/mono";

    [GlobalSetup]
    public void Setup()
    {
        if (!NativeLab.IsSupported)
            throw new PlatformNotSupportedException($"native lab: {NativeLab.UnsupportedReason}");
        var parts = Case.Split('/');
        if (!NativeMechanisms.TryParse(parts[0], out _mechanism))
            throw new ArgumentException($"unknown mechanism in case '{Case}'");
        var pattern = Enum.GetValues<TargetPattern>().Single(p => p.Name() == parts[1]);
        _image = new CallLoopImage(countCalls: false, patchable: false);
        _table = new TargetTable(_image, pattern);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _table?.Dispose();
        _image?.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public long CallLoop() => _image!.Run(_mechanism, _table!, Calls, 1);

    /// <summary>
    /// Keeps <c>retpoline-lfence/alternate</c> readable (the default column truncates at 20 characters), and adds the
    /// modelled cycles of the built-in profile for this CPU's vendor (what <c>kernelsim lab</c> compares against).
    /// </summary>
    private sealed class WideCaseColumn : ManualConfig
    {
        public WideCaseColumn()
        {
            SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(40);
            AddColumn(new ModelledCyclesColumn(NativeCalibration.BasisForThisHost()));
        }
    }
}

/// <summary>
/// The model's cycles per call for a native lab case (<c>mechanism/pattern</c>): <c>kernelsim model</c> for the same
/// mechanism with the same number of targets and pattern (mono: 1, alternate: 2, random: 4).
/// </summary>
public sealed class NativeLabModel : IModelledCounterpart
{
    /// <summary>The model's targets and pattern for a native lab pattern.</summary>
    public static (int Targets, CallPattern Pattern) ModelFor(TargetPattern pattern) => pattern switch
    {
        TargetPattern.Mono => (1, CallPattern.Mono),
        TargetPattern.Alternate => (2, CallPattern.Alternate),
        _ => (4, CallPattern.Random),
    };

    /// <summary>Modelled cycles per call of <paramref name="mechanism"/> under <paramref name="pattern"/>.</summary>
    public static double? CyclesPerCall(CpuProfile profile, string mechanism, TargetPattern pattern, int calls = 4_000)
    {
        var (targets, callPattern) = ModelFor(pattern);
        return DispatchModel.Run(profile, targets, callPattern, calls, 1).FirstOrDefault(m => m.Mechanism == mechanism)?.CyclesPerCall;
    }

    public double? Cycles(CpuProfile profile, BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        if (benchmarkCase.Parameters["Case"] is not string c || c.Split('/') is not [var mechanism, var patternName])
            return null;
        var pattern = Enum.GetValues<TargetPattern>().Where(p => p.Name() == patternName).Cast<TargetPattern?>().FirstOrDefault();
        return pattern is { } p ? CyclesPerCall(profile, mechanism, p) : null;
    }
}
