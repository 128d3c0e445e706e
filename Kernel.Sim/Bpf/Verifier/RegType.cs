using System.Runtime.CompilerServices;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>What a register holds, as enum bpf_reg_type in include/linux/bpf.h (the subset KernelSim tracks).</summary>
public enum RegType : byte
{
    /// <summary>Never written on this path: reading it is an error.</summary>
    NotInit,

    /// <summary>A number, with tnum and bounds.</summary>
    Scalar,

    /// <summary>The program's context (R1 at entry for ctx-based program types).</summary>
    PtrToCtx,

    /// <summary>A map, from lddw with a map pseudo source.</summary>
    ConstPtrToMap,

    /// <summary>Into a map value of a known map.</summary>
    PtrToMapValue,

    /// <summary>A map value or NULL: must be null-checked before use.</summary>
    PtrToMapValueOrNull,

    /// <summary>Into the stack of a frame.</summary>
    PtrToStack,

    /// <summary>A map key passed to a callback (read-only).</summary>
    PtrToMapKey,

    /// <summary>Into a sized memory region (mem_size).</summary>
    PtrToMem,

    /// <summary>A sized memory region or NULL (e.g. bpf_ringbuf_reserve).</summary>
    PtrToMemOrNull,

    /// <summary>Into packet data; accessible up to the proven range.</summary>
    PtrToPacket,

    /// <summary>The packet's metadata start (xdp_md.data_meta).</summary>
    PtrToPacketMeta,

    /// <summary>The end of packet data: only for comparisons.</summary>
    PtrToPacketEnd,
}

/// <summary>Names as reg_type_str prints them in the verifier log.</summary>
public static class RegTypeNames
{
    public static string Name(RegType type) => type switch
    {
        RegType.NotInit => "?",
        RegType.Scalar => "scalar",
        RegType.PtrToCtx => "ctx",
        RegType.ConstPtrToMap => "map_ptr",
        RegType.PtrToMapValue => "map_value",
        RegType.PtrToMapValueOrNull => "map_value_or_null",
        RegType.PtrToStack => "fp",
        RegType.PtrToMapKey => "map_key",
        RegType.PtrToMem => "mem",
        RegType.PtrToMemOrNull => "mem_or_null",
        RegType.PtrToPacket => "pkt",
        RegType.PtrToPacketMeta => "pkt_meta",
        RegType.PtrToPacketEnd => "pkt_end",
        _ => "?",
    };

    /// <summary>True for the pointers whose NULL case a comparison with 0 must remove.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsOrNull(RegType type) => type is RegType.PtrToMapValueOrNull or RegType.PtrToMemOrNull;

    /// <summary>True for packet data pointers that take a range from a comparison with pkt_end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsPacketPointer(RegType type) => type is RegType.PtrToPacket or RegType.PtrToPacketMeta;

    /// <summary>True for every pointer type (everything except NOT_INIT and SCALAR_VALUE).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsPointer(RegType type) => type > RegType.Scalar;
}
