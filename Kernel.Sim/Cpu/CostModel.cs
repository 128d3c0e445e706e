namespace Kernel.Sim.Cpu;

/// <summary>
/// The cycle-cost lens of one simulated kernel: a <see cref="CpuProfile"/> and one <see cref="ModelledCpu"/> per
/// simulated CPU. Dispatch mechanisms check <see cref="Enabled"/> (one predictable branch when off) and charge
/// <see cref="Current"/>, the CPU bound to the calling thread. Same profile, same call sequence → same counts.
/// </summary>
public sealed class CostModel : IDisposable
{
    private readonly ModelledCpu[] _cpus;
    private readonly ThreadLocal<ModelledCpu?> _current = new();

    public CostModel(CpuProfile profile, int cpus = 1, bool enabled = true)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        Profile = profile.Validate();
        _cpus = new ModelledCpu[cpus];
        for (var i = 0; i < cpus; i++)
            _cpus[i] = new ModelledCpu(i, profile);
        Enabled = enabled;
    }

    /// <summary>Where every cost comes from.</summary>
    public CpuProfile Profile { get; }

    /// <summary>Whether mechanisms charge cycles. A plain field read: turning it off leaves one branch per call.</summary>
    public bool Enabled { get; set; }

    /// <summary>The simulated CPUs.</summary>
    public IReadOnlyList<ModelledCpu> Cpus => _cpus;

    /// <summary>The CPU bound to this thread by <see cref="BindCurrentThread"/>, CPU 0 when unbound.</summary>
    public ModelledCpu Current => _current.Value ?? _cpus[0];

    /// <summary>Makes <paramref name="cpu"/> the current CPU of the calling thread (the simulated kernel's scheduler does this).</summary>
    public void BindCurrentThread(int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, _cpus.Length);
        _current.Value = _cpus[cpu];
    }

    /// <summary>Sum of every CPU's modelled cycles.</summary>
    public double TotalCycles => _cpus.Sum(c => c.Account.Cycles);

    /// <summary>Resets every CPU's predictors and account.</summary>
    public void Reset()
    {
        foreach (var cpu in _cpus)
            cpu.Reset();
    }

    public void Dispose() => _current.Dispose();
}
