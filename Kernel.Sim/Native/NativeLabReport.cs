namespace Kernel.Sim.Native;

/// <summary>Minimum, median and maximum of a figure over repetitions.</summary>
public readonly record struct NativeLabStatistic(double Min, double Median, double Max)
{
    /// <summary>The statistic of <paramref name="values"/> (sorted in place).</summary>
    public static NativeLabStatistic Of(double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length == 0)
            throw new ArgumentException("no values", nameof(values));
        Array.Sort(values);
        var mid = values.Length / 2;
        var median = values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
        return new NativeLabStatistic(values[0], median, values[^1]);
    }
}

/// <summary>One mechanism under one target pattern: time per call in nanoseconds and in core cycles.</summary>
public sealed record NativeLabResult(NativeMechanism Mechanism, TargetPattern Pattern, NativeLabStatistic Ns, NativeLabStatistic Cycles)
{
    /// <summary>The <c>kernelsim model</c> name of <see cref="Mechanism"/>.</summary>
    public string MechanismName => Mechanism.Name();

    /// <summary>The JSON name of <see cref="Pattern"/>.</summary>
    public string PatternName => Pattern.Name();
}

/// <summary>What <see cref="NativeLab.Run"/> measured, or why it could not.</summary>
public sealed record NativeLabReport(
    bool Supported,
    string? Reason,
    double TscGhz,
    double CoreGhz,
    long Calls,
    int Repetitions,
    bool Pinned,
    IReadOnlyList<NativeLabResult> Results)
{
    /// <summary>
    /// One live retarget of a patched call (<see cref="PatchableBranch"/>: atomic store + membarrier SYNC_CORE),
    /// in ns and cycles; null when not measured (unsupported host, or membarrier unavailable).
    /// </summary>
    public (NativeLabStatistic Ns, NativeLabStatistic Cycles)? Retarget { get; init; }

    /// <summary>Why <see cref="Retarget"/> is null on a supported host.</summary>
    public string? RetargetUnavailable { get; init; }

    /// <summary>The report of a host without the lab.</summary>
    public static NativeLabReport Unsupported(string reason) => new(false, reason, 0, 0, 0, 0, false, []);

    /// <summary>The result of <paramref name="mechanism"/> under <paramref name="pattern"/>, or null when not measured.</summary>
    public NativeLabResult? Find(NativeMechanism mechanism, TargetPattern pattern) =>
        Results.FirstOrDefault(r => r.Mechanism == mechanism && r.Pattern == pattern);
}
