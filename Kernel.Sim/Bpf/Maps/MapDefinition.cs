namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// What the verifier (and later the loader) knows of a map: the fields of BPF_MAP_CREATE's attributes that
/// decide which accesses and helper calls are safe. <paramref name="Name"/> is printed in the log as
/// <c>map=NAME</c> when set.
/// </summary>
public sealed record MapDefinition(BpfMapType Type, int KeySize, int ValueSize, int MaxEntries, string Name = "")
{
    /// <summary>True for maps whose values a program may point into (lookups return a value pointer).</summary>
    public bool HasValues => Type is not (BpfMapType.ProgArray or BpfMapType.PerfEventArray or BpfMapType.Ringbuf
        or BpfMapType.UserRingbuf or BpfMapType.StackTrace or BpfMapType.CgroupArray or BpfMapType.ArrayOfMaps
        or BpfMapType.HashOfMaps or BpfMapType.Sockmap or BpfMapType.Sockhash or BpfMapType.Devmap
        or BpfMapType.DevmapHash or BpfMapType.Cpumap or BpfMapType.Xskmap or BpfMapType.Queue or BpfMapType.Stack);

    /// <summary>True for array-like maps whose value address is fixed (direct value access with lddw src=2).</summary>
    public bool IsArray => Type is BpfMapType.Array or BpfMapType.PercpuArray;
}
