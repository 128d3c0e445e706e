using Kernel.Sim.Bpf.Helpers;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>
/// The helpers of tracing programs that need the simulated kernel: probe reads go through kernel memory's own checks
/// (copy_from_kernel_nofault / strncpy_from_kernel_nofault, exactly what the classic fetch path uses), the current
/// task is the CPU's task_struct, bpf_override_return records the value for the attach layer.
/// </summary>
public static unsafe class TracingHelpers
{
    // Programs reach these helpers only after the verifier proved their pointer arguments (PTR_TO_MEM of the given
    // size, a stack key of key_size), as in Linux; the JIT does not tell the helper context where its stack lives, so
    // these helpers trust the verifier rather than re-checking program-side pointers. Source addresses are checked.
    private static TracingHelperServices Services(HelperContext context) => (TracingHelperServices)context.Services!;

    /// <summary>void *bpf_map_lookup_elem(struct bpf_map *map, const void *key) (1): the current CPU's value, or NULL.</summary>
    public static ulong MapLookupElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var map = context.Maps?.FromPointer(r1);
        return map is null ? 0 : (ulong)map.Lookup((byte*)r2, context.Environment.CurrentCpu);
    }

    /// <summary>long bpf_probe_read_kernel(void *dst, u32 size, const void *unsafe_ptr) (113; also 4).</summary>
    public static ulong ProbeReadKernel(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var size = (int)(uint)r2;
        return (ulong)(long)Services(context).Core.Memory.ProbeRead(r3, new Span<byte>((void*)r1, size));
    }

    /// <summary>long bpf_probe_read_kernel_str(void *dst, u32 size, const void *unsafe_ptr) (115; also 45).</summary>
    public static ulong ProbeReadKernelStr(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var size = (int)(uint)r2;
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

    /// <summary>long bpf_override_return(struct pt_regs *regs, u64 rc) (58): the function returns rc without running.</summary>
    public static ulong OverrideReturn(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        Services(context).OverrideReturn = r2;
        return 0;
    }
}
