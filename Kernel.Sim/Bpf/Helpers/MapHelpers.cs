using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// bpf_map_lookup_elem (1), bpf_map_update_elem (2), bpf_map_delete_elem (3). The map argument is a map pointer
/// resolved through the context's registry; keys and values are checked against the running program's memory
/// (the verifier guarantees them in Linux; the checked engine must not trust an unverified program), so a bad
/// pointer gives NULL or -EFAULT, never a host fault.
/// </summary>
public static unsafe class MapHelpers
{
    /// <summary>void *bpf_map_lookup_elem(struct bpf_map *map, const void *key): the current CPU's value, or NULL.</summary>
    public static ulong MapLookupElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var map = context.Maps?.FromPointer(r1);
        if (map is null || !context.CanAccess(r2, (ulong)map.KeySize, write: false))
            return 0;
        return (ulong)map.Lookup((byte*)r2, context.Environment.CurrentCpu);
    }

    /// <summary>long bpf_map_update_elem(struct bpf_map *map, const void *key, const void *value, u64 flags).</summary>
    public static ulong MapUpdateElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var map = context.Maps?.FromPointer(r1);
        if (map is null)
            return Errno(BpfErrno.EINVAL);
        if (!context.CanAccess(r2, (ulong)map.KeySize, write: false) || !context.CanAccess(r3, (ulong)map.ValueSize, write: false))
            return Errno(BpfErrno.EFAULT);
        return (ulong)map.Update((byte*)r2, (byte*)r3, r4, context.Environment.CurrentCpu);
    }

    /// <summary>long bpf_map_delete_elem(struct bpf_map *map, const void *key).</summary>
    public static ulong MapDeleteElem(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, HelperContext context)
    {
        var map = context.Maps?.FromPointer(r1);
        if (map is null)
            return Errno(BpfErrno.EINVAL);
        if (!context.CanAccess(r2, (ulong)map.KeySize, write: false))
            return Errno(BpfErrno.EFAULT);
        return (ulong)map.Delete((byte*)r2);
    }

    /// <summary>A negative errno as the u64 a helper returns in r0.</summary>
    internal static ulong Errno(int errno) => (ulong)(long)-errno;
}
