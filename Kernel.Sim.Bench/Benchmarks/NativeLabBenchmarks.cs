using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
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

    /// <summary>Keeps <c>retpoline-lfence/alternate</c> readable (the default column truncates at 20 characters).</summary>
    private sealed class WideCaseColumn : ManualConfig
    {
        public WideCaseColumn() => SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(40);
    }
}
