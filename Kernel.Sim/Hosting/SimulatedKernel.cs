using Kernel.Sim.Bpf;
using Kernel.Sim.Core;
using Kernel.Sim.Core.Workloads;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Hosting;

/// <summary>
/// One simulated kernel: the composition root that <see cref="KernelSimServiceCollectionExtensions.AddKernelSim"/>
/// builds. It owns every subsystem instance; two kernels in one process share nothing mutable.
/// </summary>
public sealed class SimulatedKernel : IDisposable
{
    public SimulatedKernel(KernelSimOptions options, BpfSubsystem? bpf = null, KernelCore? core = null, KernelTracing? tracing = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Cpus < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "a kernel needs at least one CPU");
        Options = options;
        // One per-CPU map slot per simulated CPU (as the DI composition), so tracing and BPF objects share the maps.
        Bpf = bpf ?? new BpfSubsystem(null, options.Cpus);
        Core = core ?? new KernelCore(new KernelCoreOptions { Cpus = options.Cpus });
        Tracing = tracing ?? new KernelTracing(Core, Bpf);
        if (Tracing.Core != Core)
            throw new ArgumentException("the tracing subsystem belongs to another kernel core", nameof(tracing));
        Workloads = new KernelWorkloads(Core);
        Workloads.Register(new SyscallWorkload());
        // The composition root registers the packet path as the net workload (Core must not depend on Net).
        _net = new Net.NetPathWorkload(Tracing, options.Seed);
        Workloads.Register(_net);
    }

    private readonly Net.NetPathWorkload _net;

    /// <summary>The options this kernel was composed with.</summary>
    public KernelSimOptions Options { get; }

    /// <summary>The eBPF subsystem: helpers, memory regions, engines.</summary>
    public BpfSubsystem Bpf { get; }

    /// <summary>Kernel memory, kallsyms, functions, CPUs, tasks, clock, printk.</summary>
    public KernelCore Core { get; }

    /// <summary>ftrace, the trace buffer, kprobes, probe events, tracefs.</summary>
    public KernelTracing Tracing { get; }

    /// <summary>Workloads that exercise the kernel (built-in: <c>syscall</c>, <c>net</c>).</summary>
    public KernelWorkloads Workloads { get; }

    public void Dispose()
    {
        _net.Dispose();
        Tracing.Bpf.Dispose();
        Core.Dispose();
    }
}
