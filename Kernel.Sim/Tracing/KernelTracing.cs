using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing;

/// <summary>The tracing subsystem of one kernel: ftrace, the top-level trace instance, kprobes, probe events and tracefs.</summary>
public sealed class KernelTracing
{
    public KernelTracing(KernelCore core, Kernel.Sim.Bpf.BpfSubsystem? bpf = null)
    {
        ArgumentNullException.ThrowIfNull(core);
        Core = core;
        Ftrace = new Ftrace(core);
        Trace = new TraceArray(core, Ftrace);
        Kprobes = new Kprobes(core, Ftrace);
        Bpf = new Bpf.TracingBpf(core, bpf);
        ProbeEvents = new ProbeEvents.ProbeEventManager(Trace, Kprobes) { Bpf = Bpf };
        BpfLinks = new Bpf.BpfAttachments(Bpf, Kprobes, Ftrace);
        Tracepoints = new Bpf.Tracepoints(core, Bpf, Trace);
        Tracefs = new Tracefs.TracefsFileSystem(this);
    }

    public KernelCore Core { get; }

    public Ftrace Ftrace { get; }

    /// <summary>The top-level trace instance (/sys/kernel/tracing).</summary>
    public TraceArray Trace { get; }

    public Kprobes Kprobes { get; }

    /// <summary>BPF for tracing: fetch programs, program loading for the tracing types, attachment.</summary>
    public Bpf.TracingBpf Bpf { get; }

    /// <summary>BPF programs attached to kprobes, kretprobes, fentry and fexit.</summary>
    public Bpf.BpfAttachments BpfLinks { get; }

    /// <summary>The tracepoints the simulated kernel defines (tracepoint and raw_tracepoint programs attach here).</summary>
    public Bpf.Tracepoints Tracepoints { get; }

    /// <summary>kprobe_events / dynamic_events.</summary>
    public ProbeEvents.ProbeEventManager ProbeEvents { get; }

    /// <summary>The tracefs facade.</summary>
    public Tracefs.TracefsFileSystem Tracefs { get; }
}
