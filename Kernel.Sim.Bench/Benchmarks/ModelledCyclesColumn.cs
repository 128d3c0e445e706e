using System.Collections.Concurrent;
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
/// The model's figure for one case of a benchmark class whose cases differ by parameters (a strategy, a mechanism and
/// pattern), where a per-method <see cref="ModelledAsAttribute"/> cannot say it. Named by <see cref="ModelledByAttribute"/>.
/// </summary>
public interface IModelledCounterpart
{
    /// <summary>Modelled cycles per operation of <paramref name="benchmarkCase"/> under <paramref name="profile"/>, or null when it has none.</summary>
    double? Cycles(CpuProfile profile, BenchmarkCase benchmarkCase);
}

/// <summary>Names the <see cref="IModelledCounterpart"/> (a type with a parameterless constructor) that models a benchmark class's cases.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ModelledByAttribute(Type counterpart) : Attribute
{
    /// <summary>The <see cref="IModelledCounterpart"/> implementation.</summary>
    public Type Counterpart { get; } = counterpart;
}

/// <summary>
/// A BenchmarkDotNet column with the model's cycles per operation for each benchmark case under a profile, so
/// measured time and modelled cycles sit side by side: per call from <c>kernelsim model</c> (one target, mono
/// pattern) for methods marked <see cref="ModelledAsAttribute"/>, or whatever the class's
/// <see cref="ModelledByAttribute"/> counterpart computes (per packet on the receive path, per call of a native
/// lab mechanism and pattern). Cases without a counterpart show "-".
/// </summary>
public sealed class ModelledCyclesColumn : IColumn
{
    private readonly CpuProfile _profile;
    private readonly Lazy<IReadOnlyDictionary<string, double>> _cycles;

    // Counterparts can be slow (a modelled packet-path run); BenchmarkDotNet asks for a cell more than once.
    private readonly ConcurrentDictionary<string, double?> _byCase = new(StringComparer.Ordinal);

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

    public string Legend => $"Modelled cycles per operation under the {_profile.Name} profile: per call from `kernelsim model --profile {_profile.Name}` (one target, mono), per packet on the modelled receive path, per call of the native lab's mechanism and pattern";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var cycles = Cycles(benchmarkCase);
        return cycles is { } c ? c.ToString("F2", CultureInfo.InvariantCulture) : "-";
    }

    /// <summary>The modelled figure of <paramref name="benchmarkCase"/>, or null when it has no modelled counterpart.</summary>
    public double? Cycles(BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var descriptor = benchmarkCase.Descriptor;
        var mechanism = descriptor.WorkloadMethod.GetCustomAttribute<ModelledAsAttribute>()?.Mechanism;
        if (mechanism is not null)
            return _cycles.Value.TryGetValue(mechanism, out var perCall) ? perCall : null;
        if (descriptor.Type.GetCustomAttribute<ModelledByAttribute>() is not { } by)
            return null;
        var key = $"{descriptor.Type.FullName}.{descriptor.WorkloadMethod.Name}({benchmarkCase.Parameters.DisplayInfo})";
        return _byCase.GetOrAdd(key, _ => ((IModelledCounterpart)Activator.CreateInstance(by.Counterpart)!).Cycles(_profile, benchmarkCase));
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}
