using Kernel.Sim.Bpf.Helpers;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>
/// The helpers of tracing programs that need the simulated kernel: probe reads go through kernel memory's own checks
/// (copy_from_kernel_nofault / strncpy_from_kernel_nofault, exactly what the classic fetch path uses), the current
/// task is the CPU's task_struct, bpf_override_return records the value for the attach layer.
/// </summary>
public static unsafe class TracingHelpers
{
    // Source addresses go through kernel memory's own fault-free reads; the destination (the program's stack or a
    // map value, both registered with the helper context for the run) is checked as every helper checks program
    // memory, so even an unverified program cannot make a helper write outside it.
    private static TracingHelperServices Services(HelperContext context) => (TracingHelperServices)context.Services!;

    /// <summary>long bpf_probe_read_kernel(void *dst, u32 size, const void *unsafe_ptr) (113; also 4).</summary>
    public static ulong ProbeReadKernel(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var size = (int)(uint)r2;
        if (!context.CanAccess(r1, (uint)size, write: true))
            return unchecked((ulong)(long)-Kernel.Sim.Core.Errno.EFAULT);
        return (ulong)(long)Services(context).Core.Memory.ProbeRead(r3, new Span<byte>((void*)r1, size));
    }

    /// <summary>long bpf_probe_read_kernel_str(void *dst, u32 size, const void *unsafe_ptr) (115; also 45).</summary>
    public static ulong ProbeReadKernelStr(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var size = (int)(uint)r2;
        if (!context.CanAccess(r1, (uint)size, write: true))
            return unchecked((ulong)(long)-Kernel.Sim.Core.Errno.EFAULT);
        var destination = new Span<byte>((void*)r1, size);
        var length = Services(context).Core.Memory.ProbeReadString(r3, destination);
        if (length < 0)
            destination.Clear();
        return (ulong)(long)length;
    }

    /// <summary>struct task_struct *bpf_get_current_task(void) (35): the address of current's task_struct.</summary>
    public static ulong GetCurrentTask(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        Services(context).Cpu.CurrentTask.Address;

    /// <summary>u64 bpf_get_func_ip(void *ctx) (173): the traced function's address.</summary>
    public static ulong GetFuncIp(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        Services(context).FunctionIp;

    /// <summary>
    /// u64 bpf_get_attach_cookie(void *ctx) (174): the cookie given when the running program was attached (kprobe,
    /// kretprobe, fentry, fexit, tracepoint), 0 when none was given.
    /// </summary>
    public static ulong GetAttachCookie(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        Services(context).AttachCookie;

    /// <summary>long bpf_override_return(struct pt_regs *regs, u64 rc) (58): the function returns rc without running.</summary>
    public static ulong OverrideReturn(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        Services(context).OverrideReturn = r2;
        return 0;
    }
}
