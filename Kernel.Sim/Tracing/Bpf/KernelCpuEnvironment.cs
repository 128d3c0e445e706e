using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>
/// What BPF helpers see of one simulated CPU: its id, its current task (pid, tgid, comm from the task_struct in kernel
/// memory) and its clock. One per CPU, so a program attached to a hook reads the state of the CPU that hit it.
/// </summary>
public sealed unsafe class KernelCpuEnvironment(SimulatedCpu cpu) : IHelperEnvironment
{
    /// <summary>The CPU this environment describes.</summary>
    public SimulatedCpu Cpu { get; } = cpu ?? throw new ArgumentNullException(nameof(cpu));

    public int CurrentCpu => Cpu.Id;

    public ulong CurrentPidTgid
    {
        get
        {
            var task = Cpu.CurrentTask;
            return ((ulong)(uint)task.Tgid << 32) | (uint)task.Pid;
        }
    }

    public ReadOnlySpan<byte> CurrentComm
    {
        get
        {
            var comm = new ReadOnlySpan<byte>(Cpu.CurrentTask.Pointer->comm, TaskStruct.CommLength - 1);
            var nul = comm.IndexOf((byte)0);
            return nul >= 0 ? comm[..nul] : comm;
        }
    }

    public ulong MonotonicNs => (ulong)Cpu.ClockNs;

    public ulong BootNs => (ulong)Cpu.ClockNs;
}

/// <summary>The kernel services tracing helpers reach through <see cref="HelperContext.Services"/>.</summary>
public sealed class TracingHelperServices(KernelCore core, SimulatedCpu cpu) : IServiceProvider
{
    public KernelCore Core { get; } = core;

    public SimulatedCpu Cpu { get; } = cpu;

    /// <summary>The function whose hook runs the program on this CPU (bpf_get_func_ip), set by the attach layer.</summary>
    public ulong FunctionIp { get; set; }

    /// <summary>The attach cookie of the program now running on this CPU (bpf_get_attach_cookie), set before each run.</summary>
    public ulong AttachCookie { get; set; }

    /// <summary>bpf_override_return's request for the current hit: set by the helper, consumed by the attach layer.</summary>
    public ulong? OverrideReturn { get; set; }

    public object? GetService(Type serviceType) =>
        serviceType == typeof(KernelCore) ? Core : serviceType == typeof(SimulatedCpu) ? Cpu : null;
}
