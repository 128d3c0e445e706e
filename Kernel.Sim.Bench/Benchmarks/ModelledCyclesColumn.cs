using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>Names the <see cref="DispatchModel"/> mechanism a benchmark measures, for <see cref="ModelledCyclesColumn"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ModelledAsAttribute(string mechanism) : Attribute
{
    /// <summary>Mechanism name as in <c>kernelsim model</c>.</summary>
    public string Mechanism { get; } = mechanism;
}

/// <summary>
/// A BenchmarkDotNet column with the model's cycles per call for the benchmark's mechanism (one target, mono pattern)
/// under a profile, so measured time and modelled cycles sit side by side.
/// </summary>
public sealed class ModelledCyclesColumn : IColumn
{
    private readonly CpuProfile _profile;
    private readonly Lazy<IReadOnlyDictionary<string, double>> _cycles;

    public ModelledCyclesColumn(CpuProfile profile)
    {
        _profile = profile;
        _cycles = new Lazy<IReadOnlyDictionary<string, double>>(() =>
            DispatchModel.Run(_profile, 1, CallPattern.Mono, 10_000, 1).ToDictionary(r => r.Mechanism, r => r.CyclesPerCall));
    }

    public string Id => $"{nameof(ModelledCyclesColumn)}.{_profile.Name}";

    public string ColumnName => $"Modelled cyc ({_profile.Name})";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => $"Modelled cycles per call from `kernelsim model --profile {_profile.Name}` (one target, mono pattern)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var mechanism = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<ModelledAsAttribute>()?.Mechanism;
        return mechanism is not null && _cycles.Value.TryGetValue(mechanism, out var cycles)
            ? cycles.ToString("F2", CultureInfo.InvariantCulture)
            : "-";
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}
