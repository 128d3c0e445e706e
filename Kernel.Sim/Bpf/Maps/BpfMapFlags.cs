namespace Kernel.Sim.Bpf.Maps;

/// <summary>map_flags of BPF_MAP_CREATE (include/uapi/linux/bpf.h).</summary>
[Flags]
public enum BpfMapFlags : uint
{
    None = 0,

    /// <summary>Hash elements allocated on demand. KernelSim always preallocates; the semantics are the same.</summary>
    NoPrealloc = 1 << 0,

    /// <summary>Per-CPU LRU lists. KernelSim keeps one common LRU list (see <see cref="LruList"/>).</summary>
    NoCommonLru = 1 << 1,

    /// <summary>numa_node is valid (ignored: one node).</summary>
    NumaNode = 1 << 2,

    /// <summary>User space may only read (updates and deletes through the syscall are -EPERM).</summary>
    Rdonly = 1 << 3,

    /// <summary>User space may only write.</summary>
    Wronly = 1 << 4,

    /// <summary>For stack maps (not modelled).</summary>
    StackBuildId = 1 << 5,

    /// <summary>Zero hash seed (accepted; KernelSim's hash is unseeded).</summary>
    ZeroSeed = 1 << 6,

    /// <summary>Programs may only read: the value region is read-only and program updates are -EPERM (.rodata).</summary>
    RdonlyProg = 1 << 7,

    /// <summary>Programs may only write.</summary>
    WronlyProg = 1 << 8,

    /// <summary>Clone on inner map (not modelled).</summary>
    Clone = 1 << 9,

    /// <summary>The array's values may be mmap()ed (arrays only; their values are native memory anyway).</summary>
    Mmapable = 1 << 10,

    /// <summary>Perf event array keeps its events when the map's fd is closed.</summary>
    PreserveElems = 1 << 11,

    /// <summary>Inner map of a map-in-map.</summary>
    InnerMap = 1 << 12,
}
