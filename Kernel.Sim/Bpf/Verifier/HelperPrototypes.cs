using System.Collections.Frozen;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>enum bpf_arg_type: what a helper argument must be (the subset KernelSim's helpers use).</summary>
public enum ArgType : byte
{
    /// <summary>Unused argument.</summary>
    DontCare,

    /// <summary>CONST_PTR_TO_MAP.</summary>
    ConstMapPtr,

    /// <summary>Pointer to key_size initialised bytes (stack, map value, packet, mem).</summary>
    PtrToMapKey,

    /// <summary>Pointer to value_size initialised bytes.</summary>
    PtrToMapValue,

    /// <summary>Pointer to initialised memory; its size is the next argument.</summary>
    PtrToMem,

    /// <summary>Pointer to memory the helper writes (may be uninitialised); its size is the next argument.</summary>
    PtrToUninitMem,

    /// <summary>A constant (bounded) size, &gt; 0.</summary>
    ConstSize,

    /// <summary>A constant (bounded) size, &gt;= 0.</summary>
    ConstSizeOrZero,

    /// <summary>A bounded allocation size, &gt;= 0 (the size of the returned memory).</summary>
    ConstAllocSizeOrZero,

    /// <summary>The program's context, unmodified.</summary>
    PtrToCtx,

    /// <summary>Memory returned by bpf_ringbuf_reserve, released by this call.</summary>
    PtrToRingbufMemRelease,

    /// <summary>Any initialised value.</summary>
    Anything,
}

/// <summary>enum bpf_return_type (subset).</summary>
public enum RetType : byte
{
    Integer,
    Void,
    PtrToMapValueOrNull,

    /// <summary>Ring buffer memory of the allocated size, or NULL; acquires a reference.</summary>
    PtrToRingbufMemOrNull,
}

/// <summary>A helper's prototype (struct bpf_func_proto): id and name as in include/uapi/linux/bpf.h.</summary>
public sealed record HelperPrototype(int Id, string Name, RetType Ret, ArgType[] Args, bool TracingOnly = false)
{
    /// <summary>The log name, e.g. <c>bpf_map_lookup_elem</c>.</summary>
    public string LogName => "bpf_" + Name;
}

/// <summary>
/// The helpers KernelSim's verifier knows, with Linux's ids, names and argument types. Adding a helper is adding
/// one line here (and its implementation in the helper registry).
/// </summary>
public static class HelperPrototypes
{
    /// <summary>__BPF_FUNC_MAX_ID of Linux 6.18: ids at or above it are "invalid func".</summary>
    public const int MaxId = 212;

    private static readonly ArgType[] None = [];

    public static readonly FrozenDictionary<int, HelperPrototype> All = new HelperPrototype[]
    {
        new(1, "map_lookup_elem", RetType.PtrToMapValueOrNull, [ArgType.ConstMapPtr, ArgType.PtrToMapKey]),
        new(2, "map_update_elem", RetType.Integer, [ArgType.ConstMapPtr, ArgType.PtrToMapKey, ArgType.PtrToMapValue, ArgType.Anything]),
        new(3, "map_delete_elem", RetType.Integer, [ArgType.ConstMapPtr, ArgType.PtrToMapKey]),
        new(4, "probe_read", RetType.Integer, [ArgType.PtrToUninitMem, ArgType.ConstSizeOrZero, ArgType.Anything], TracingOnly: true),
        new(5, "ktime_get_ns", RetType.Integer, None),
        new(6, "trace_printk", RetType.Integer, [ArgType.PtrToMem, ArgType.ConstSize]),
        new(7, "get_prandom_u32", RetType.Integer, None),
        new(8, "get_smp_processor_id", RetType.Integer, None),
        new(12, "tail_call", RetType.Void, [ArgType.PtrToCtx, ArgType.ConstMapPtr, ArgType.Anything]),
        new(14, "get_current_pid_tgid", RetType.Integer, None),
        new(16, "get_current_comm", RetType.Integer, [ArgType.PtrToUninitMem, ArgType.ConstSize]),
        new(25, "perf_event_output", RetType.Integer, [ArgType.PtrToCtx, ArgType.ConstMapPtr, ArgType.Anything, ArgType.PtrToMem, ArgType.ConstSizeOrZero]),
        new(35, "get_current_task", RetType.Integer, None, TracingOnly: true),
        new(58, "override_return", RetType.Integer, [ArgType.PtrToCtx, ArgType.Anything], TracingOnly: true),
        new(45, "probe_read_str", RetType.Integer, [ArgType.PtrToUninitMem, ArgType.ConstSizeOrZero, ArgType.Anything], TracingOnly: true),
        new(113, "probe_read_kernel", RetType.Integer, [ArgType.PtrToUninitMem, ArgType.ConstSizeOrZero, ArgType.Anything]),
        new(115, "probe_read_kernel_str", RetType.Integer, [ArgType.PtrToUninitMem, ArgType.ConstSizeOrZero, ArgType.Anything]),
        new(173, "get_func_ip", RetType.Integer, [ArgType.PtrToCtx], TracingOnly: true),
        new(174, "get_attach_cookie", RetType.Integer, [ArgType.PtrToCtx], TracingOnly: true),
        new(125, "ktime_get_boot_ns", RetType.Integer, None),
        new(130, "ringbuf_output", RetType.Integer, [ArgType.ConstMapPtr, ArgType.PtrToMem, ArgType.ConstSizeOrZero, ArgType.Anything]),
        new(131, "ringbuf_reserve", RetType.PtrToRingbufMemOrNull, [ArgType.ConstMapPtr, ArgType.ConstAllocSizeOrZero, ArgType.Anything]),
        new(132, "ringbuf_submit", RetType.Void, [ArgType.PtrToRingbufMemRelease, ArgType.Anything]),
        new(133, "ringbuf_discard", RetType.Void, [ArgType.PtrToRingbufMemRelease, ArgType.Anything]),
    }.ToFrozenDictionary(p => p.Id);

    /// <summary>The log name of any helper id: bpf_NAME for known ones, <c>unknown</c> otherwise (func_id_name).</summary>
    public static string LogName(int id) => All.TryGetValue(id, out var p) ? p.LogName : "unknown";
}
