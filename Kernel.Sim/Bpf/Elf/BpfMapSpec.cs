using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Elf;

/// <summary>Where a map definition came from.</summary>
public enum MapOrigin
{
    /// <summary>A BTF-defined map in <c>.maps</c>.</summary>
    Btf,

    /// <summary>A <c>struct bpf_map_def</c> record in the legacy <c>maps</c> section.</summary>
    Legacy,

    /// <summary>A global data section (<c>.rodata</c>, <c>.data</c>, <c>.bss</c>, <c>.rodata.*</c>, <c>.data.*</c>) as a single-entry array.</summary>
    GlobalData,
}

/// <summary>
/// A map an object defines, as libbpf would create it with BPF_MAP_CREATE. <see cref="TypeId"/> is the raw
/// map_type number (kept even when it is not a known <see cref="BpfMapType"/>). Global data maps carry their
/// initial value in <see cref="InitialValue"/>; prog arrays initialised statically with <c>__array(values, ...)</c>
/// carry the program names per slot in <see cref="InitialPrograms"/>.
/// </summary>
public sealed record BpfMapSpec(
    string Name,
    uint TypeId,
    uint KeySize,
    uint ValueSize,
    uint MaxEntries,
    uint Flags,
    MapOrigin Origin,
    string Section)
{
    public const uint BPF_F_RDONLY_PROG = 1 << 7;
    public const uint BPF_F_MMAPABLE = 1 << 10;

    public BpfMapType Type => (BpfMapType)TypeId;

    /// <summary>The value of a global data map (zeros for .bss); null for other maps.</summary>
    public byte[]? InitialValue { get; init; }

    /// <summary>Slot → program name for statically initialised prog arrays.</summary>
    public IReadOnlyDictionary<int, string> InitialPrograms { get; init; } = new Dictionary<int, string>();

    /// <summary>Fields beyond the five of <c>struct bpf_map_def</c> (legacy records of 28/36 bytes) or BTF attributes (numa_node, pinning, map_extra) by name.</summary>
    public IReadOnlyDictionary<string, ulong> Extra { get; init; } = new Dictionary<string, ulong>();

    /// <summary>BTF key and value type ids (0 when the map has none).</summary>
    public int BtfKeyTypeId { get; init; }

    public int BtfValueTypeId { get; init; }

    /// <summary>For global data maps: the name of each variable at its offset (from the section's BTF DATASEC).</summary>
    public IReadOnlyList<(string Name, uint Offset, uint Size)> Variables { get; init; } = [];

    /// <summary>bpftool's name for the map type (<c>hash</c>, <c>array</c>, <c>prog_array</c>, ...).</summary>
    public string TypeName => MapTypeNames.Name(TypeId);

    /// <summary>What the verifier needs.</summary>
    public MapDefinition ToDefinition() => new(Type, (int)KeySize, (int)ValueSize, (int)MaxEntries, Name);
}

/// <summary>bpftool's map type names (tools/bpf/bpftool/map.c via libbpf_bpf_map_type_str).</summary>
public static class MapTypeNames
{
    private static readonly string[] Names =
    [
        "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array", "stack_trace",
        "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps", "hash_of_maps", "devmap", "sockmap",
        "cpumap", "xskmap", "sockhash", "cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack",
        "sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage", "bloom_filter", "user_ringbuf",
        "cgrp_storage", "arena",
    ];

    public static string Name(uint type) => type < Names.Length ? Names[type] : "type " + type;

    public static bool IsKnown(uint type) => type < Names.Length && type != 0;
}
