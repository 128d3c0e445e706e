using Kernel.Sim.Bpf;

namespace Kernel.Sim.Hosting;

/// <summary>
/// One simulated kernel: the composition root that <see cref="KernelSimServiceCollectionExtensions.AddKernelSim"/>
/// builds. It owns every subsystem instance; two kernels in one process share nothing mutable.
/// </summary>
public sealed class SimulatedKernel
{
    public SimulatedKernel(KernelSimOptions options, BpfSubsystem? bpf = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Cpus < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "a kernel needs at least one CPU");
        Options = options;
        Bpf = bpf ?? new BpfSubsystem();
    }

    /// <summary>The options this kernel was composed with.</summary>
    public KernelSimOptions Options { get; }

    /// <summary>The eBPF subsystem: helpers, memory regions, engines.</summary>
    public BpfSubsystem Bpf { get; }
}
