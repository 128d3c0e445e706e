using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// bpf_tail_call (12): long bpf_tail_call(void *ctx, struct bpf_map *prog_array_map, u32 index). In Linux the
/// verifier turns the call into BPF_TAIL_CALL, which jumps into the target and never returns; a miss falls through
/// to the next instruction. Here the helper makes the decision (the prog array, index &lt; max_entries, a program in
/// the slot, fewer than <see cref="MaxTailCallCount"/> tail calls so far in this run), records the target in
/// <see cref="HelperContext.PendingTailCall"/> and the engine (registered with <see cref="HelperFlags.TailCall"/>)
/// jumps to it with the same context and stack frame. A miss returns -ENOENT (Linux's helper stub value; the
/// program cannot see it, as r0 is not read after a tail call in verified code).
/// </summary>
public static class TailCalls
{
    /// <summary>MAX_TAIL_CALL_CNT: at most 33 tail calls per run.</summary>
    public const int MaxTailCallCount = 33;

    /// <summary>The helper.</summary>
    public static ulong TailCall(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        if (context.Maps?.FromPointer(r2) is not ProgArrayMap array)
            return MapHelpers.Errno(BpfErrno.EINVAL);
        var index = (uint)r3;
        if (index >= (uint)array.MaxEntries || context.TailCallCount >= MaxTailCallCount)
            return MapHelpers.Errno(BpfErrno.ENOENT);
        var program = array.Get(index);
        if (program is null)
            return MapHelpers.Errno(BpfErrno.ENOENT);
        context.TailCallCount++;
        context.PendingTailCall = program;
        return 0;
    }
}
