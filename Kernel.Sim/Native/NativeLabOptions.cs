namespace Kernel.Sim.Native;

/// <summary>How <see cref="NativeLab.Run"/> measures.</summary>
public sealed class NativeLabOptions
{
    /// <summary>
    /// Calls per timed run of a loop. Runs are kept short (about a millisecond) so that on a busy machine some of
    /// them fit between two preemptions: the minimum over many short runs is the undisturbed cost.
    /// </summary>
    public long Calls { get; set; } = 200_000;

    /// <summary>Timed runs per mechanism and pattern (min/median/max are over these).</summary>
    public int Repetitions { get; set; } = 21;

    /// <summary>Untimed runs before the timed ones (predictors, caches, the core clock warm up).</summary>
    public int Warmups { get; set; } = 2;

    /// <summary>Mechanisms to measure; all when null.</summary>
    public IReadOnlyList<NativeMechanism>? Mechanisms { get; set; }

    /// <summary>Seed of the random pattern's table.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Behave as on a host without the lab, with this reason (tests the unsupported path anywhere).</summary>
    public string? SimulateUnsupported { get; set; }

    internal void Validate()
    {
        if (Calls < 1)
            throw new ArgumentOutOfRangeException(nameof(Calls), Calls, "calls must be at least 1");
        if (Repetitions < 1)
            throw new ArgumentOutOfRangeException(nameof(Repetitions), Repetitions, "repetitions must be at least 1");
        if (Warmups < 0)
            throw new ArgumentOutOfRangeException(nameof(Warmups), Warmups, "warmups cannot be negative");
    }
}
