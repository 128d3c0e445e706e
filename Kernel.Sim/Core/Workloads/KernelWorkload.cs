namespace Kernel.Sim.Core.Workloads;

/// <summary>
/// Something that exercises the simulated kernel: it defines its traceable functions once (<see cref="Install"/>)
/// and then calls them (<see cref="Run"/>). The packet path registers itself the same way.
/// </summary>
public interface IKernelWorkload
{
    /// <summary>The name <c>kernelsim trace --workload NAME</c> selects.</summary>
    string Name { get; }

    /// <summary>One line for help texts.</summary>
    string Description { get; }

    /// <summary>Defines the workload's functions and objects in <paramref name="core"/> (called once).</summary>
    void Install(KernelCore core);

    /// <summary>Runs <paramref name="iterations"/> rounds on the calling thread's CPU.</summary>
    void Run(SimulatedCpu cpu, int iterations);
}

/// <summary>The workloads of one kernel, installed on first use.</summary>
public sealed class KernelWorkloads
{
    private readonly KernelCore _core;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, IKernelWorkload> _registered = new(StringComparer.Ordinal);
    private readonly HashSet<string> _installed = new(StringComparer.Ordinal);

    public KernelWorkloads(KernelCore core) => _core = core;

    /// <summary>The registered workload names.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_lock)
                return _registered.Keys.Order(StringComparer.Ordinal).ToArray();
        }
    }

    /// <summary>Adds a workload (not yet installed).</summary>
    public void Register(IKernelWorkload workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        lock (_lock)
            _registered[workload.Name] = workload;
    }

    /// <summary>The workload called <paramref name="name"/>, installed; null when unknown.</summary>
    public IKernelWorkload? Get(string name)
    {
        lock (_lock)
        {
            if (!_registered.TryGetValue(name, out var workload))
                return null;
            if (_installed.Add(name))
                workload.Install(_core);
            return workload;
        }
    }

    /// <summary>Installs every registered workload (so available_filter_functions lists all their functions).</summary>
    public void InstallAll()
    {
        foreach (var name in Names)
            Get(name);
    }

    /// <summary>Runs a workload on CPU <paramref name="cpu"/> of the kernel, on the calling thread.</summary>
    public void Run(string name, int iterations, int cpu = 0)
    {
        var workload = Get(name) ?? throw new ArgumentException($"unknown workload '{name}' (have: {string.Join(", ", Names)})", nameof(name));
        var target = _core.Cpus[cpu];
        target.Run(() => workload.Run(target, iterations));
    }
}
