using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// Output to user space: bpf_perf_event_output (25) and the ring buffer helpers bpf_ringbuf_output (130),
/// bpf_ringbuf_reserve (131), bpf_ringbuf_submit (132), bpf_ringbuf_discard (133).
/// </summary>
public static unsafe class OutputHelpers
{
    /// <summary>long bpf_perf_event_output(void *ctx, struct bpf_map *map, u64 flags, void *data, u64 size).</summary>
    public static ulong PerfEventOutput(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        if (context.Maps?.FromPointer(r2) is not PerfEventArrayMap map)
            return MapHelpers.Errno(BpfErrno.EINVAL);
        if (!context.CanAccess(r4, r5, write: false))
            return MapHelpers.Errno(BpfErrno.EFAULT);
        return (ulong)map.Output(context.Environment.CurrentCpu, r3, (byte*)r4, r5);
    }

    /// <summary>long bpf_ringbuf_output(void *ringbuf, void *data, u64 size, u64 flags): 0, -EINVAL or -EAGAIN.</summary>
    public static ulong RingbufOutput(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        if (context.Maps?.FromPointer(r1) is not RingBufMap ring)
            return MapHelpers.Errno(BpfErrno.EINVAL);
        if (!context.CanAccess(r2, r3, write: false))
            return MapHelpers.Errno(BpfErrno.EFAULT);
        return (ulong)ring.Output((byte*)r2, r3, r4);
    }

    /// <summary>void *bpf_ringbuf_reserve(void *ringbuf, u64 size, u64 flags): the record's data, or NULL (flags must be 0).</summary>
    public static ulong RingbufReserve(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        if (r3 != 0 || context.Maps?.FromPointer(r1) is not RingBufMap ring)
            return 0;
        return (ulong)ring.Reserve(r2);
    }

    /// <summary>void bpf_ringbuf_submit(void *data, u64 flags).</summary>
    public static ulong RingbufSubmit(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        Commit(r1, r2, context, discard: false);

    /// <summary>void bpf_ringbuf_discard(void *data, u64 flags).</summary>
    public static ulong RingbufDiscard(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context) =>
        Commit(r1, r2, context, discard: true);

    // The ring is found from the sample's address (Linux reads pg_off from the header; the checked engine must not
    // trust the header of a pointer an unverified program made up). A sample that is not a busy record is ignored.
    private static ulong Commit(ulong sample, ulong flags, HelperContext context, bool discard)
    {
        var ring = context.Maps?.RingbufOfSample(sample);
        if (ring is null || (*(uint*)(sample - RingBufMap.HeaderSize) & RingBufMap.BusyBit) == 0)
            return 0;
        ring.Commit((byte*)sample, flags, discard);
        return 0;
    }
}
