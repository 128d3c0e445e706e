using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// Helpers that read the environment: bpf_ktime_get_ns (5), bpf_get_prandom_u32 (7), bpf_get_smp_processor_id (8),
/// bpf_get_current_pid_tgid (14), bpf_get_current_comm (16), bpf_ktime_get_boot_ns (125).
/// </summary>
public static unsafe class KernelHelpers
{
    /// <summary>u64 bpf_ktime_get_ns(void): CLOCK_MONOTONIC.</summary>
    public static ulong KtimeGetNs(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        context.Environment.MonotonicNs;

    /// <summary>u64 bpf_ktime_get_boot_ns(void): CLOCK_BOOTTIME.</summary>
    public static ulong KtimeGetBootNs(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        context.Environment.BootNs;

    /// <summary>u32 bpf_get_prandom_u32(void): the context's deterministic generator.</summary>
    public static ulong GetPrandomU32(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        context.NextPrandom();

    /// <summary>u32 bpf_get_smp_processor_id(void).</summary>
    public static ulong GetSmpProcessorId(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        (uint)context.Environment.CurrentCpu;

    /// <summary>u64 bpf_get_current_pid_tgid(void): tgid in the upper half, pid in the lower.</summary>
    public static ulong GetCurrentPidTgid(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        context.Environment.CurrentPidTgid;

    /// <summary>
    /// long bpf_get_current_comm(void *buf, u32 size_of_buf): strscpy_pad of current->comm: at most size - 1 bytes,
    /// a NUL, the rest zeroed; 0.
    /// </summary>
    public static ulong GetCurrentComm(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var size = (uint)r2;
        if (size == 0 || !context.CanAccess(r1, size, write: true))
            return MapHelpers.Errno(BpfErrno.EFAULT);
        var buffer = new Span<byte>((void*)r1, (int)size);
        buffer.Clear();
        var comm = context.Environment.CurrentComm;
        comm[..Math.Min(comm.Length, (int)size - 1)].CopyTo(buffer);
        return 0;
    }
}
