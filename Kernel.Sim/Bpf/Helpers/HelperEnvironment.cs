using System.Diagnostics;
using System.Text;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// The kernel state helpers read: the current CPU, the current task and the clocks. The simulated kernel implements
/// it over its per-CPU state and scheduler; <see cref="HelperEnvironment"/> is the stand-alone default.
/// </summary>
public interface IHelperEnvironment
{
    /// <summary>smp_processor_id().</summary>
    int CurrentCpu { get; }

    /// <summary>current->tgid &lt;&lt; 32 | current->pid.</summary>
    ulong CurrentPidTgid { get; }

    /// <summary>current->comm, at most TASK_COMM_LEN - 1 (15) bytes, no NUL.</summary>
    ReadOnlySpan<byte> CurrentComm { get; }

    /// <summary>ktime_get_mono_fast_ns(): CLOCK_MONOTONIC in nanoseconds.</summary>
    ulong MonotonicNs { get; }

    /// <summary>ktime_get_boot_fast_ns(): CLOCK_BOOTTIME (monotonic plus time suspended).</summary>
    ulong BootNs { get; }
}

/// <summary>
/// The default environment: a settable CPU, task (pid, tgid, comm) and a clock that either runs (host
/// <see cref="Stopwatch"/> since creation plus <see cref="BootOffsetNs"/>) or stands still at <see cref="FixedNs"/>
/// for deterministic tests. No suspend is modelled, so boot time equals monotonic time.
/// </summary>
public sealed class HelperEnvironment : IHelperEnvironment
{
    /// <summary>TASK_COMM_LEN.</summary>
    public const int TaskCommLen = 16;

    private readonly long _start = Stopwatch.GetTimestamp();
    private byte[] _comm = "swapper/0"u8.ToArray();

    /// <summary>The CPU this context runs on.</summary>
    public int Cpu { get; set; }

    /// <summary>current->pid (0 is the idle task, as on a CPU running no task).</summary>
    public int Pid { get; set; }

    /// <summary>current->tgid.</summary>
    public int Tgid { get; set; }

    /// <summary>current->comm (truncated to 15 bytes, as the kernel stores it).</summary>
    public string Comm
    {
        get => Encoding.UTF8.GetString(_comm);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            var bytes = Encoding.UTF8.GetBytes(value);
            _comm = bytes.Length < TaskCommLen ? bytes : bytes[..(TaskCommLen - 1)];
        }
    }

    /// <summary>When set, both clocks read this value (a stopped clock).</summary>
    public ulong? FixedNs { get; set; }

    /// <summary>Nanoseconds the monotonic clock showed when this environment was created.</summary>
    public ulong BootOffsetNs { get; set; } = 1_000_000_000;

    public int CurrentCpu => Cpu;

    public ulong CurrentPidTgid => ((ulong)(uint)Tgid << 32) | (uint)Pid;

    public ReadOnlySpan<byte> CurrentComm => _comm;

    public ulong MonotonicNs => FixedNs ?? BootOffsetNs + (ulong)Stopwatch.GetElapsedTime(_start).Ticks * 100;

    public ulong BootNs => MonotonicNs;
}
