using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kernel.Sim.Net;

/// <summary>
/// <c>struct sk_buff</c> in kernel memory, 232 bytes as on x86-64 Linux 6.x. <c>dev</c> (16), <c>len</c> (112),
/// <c>data_len</c> (116), <c>protocol</c> (180), the header offsets (182–186), <c>tail</c>/<c>end</c>, <c>head</c>
/// and <c>data</c> sit at Linux's offsets, so probes such as <c>+112(%di):u32</c> read what they read on a real
/// kernel. The bitfield bytes are simplified: <c>pkt_type</c> is a whole byte at 128.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct SkBuff
{
    /// <summary>sizeof(struct sk_buff).</summary>
    public const int Size = 232;

    [FieldOffset(0)] public ulong next;
    [FieldOffset(8)] public ulong prev;
    [FieldOffset(16)] public ulong dev;
    [FieldOffset(24)] public ulong sk;
    [FieldOffset(32)] public long tstamp;
    /// <summary>The 48-byte control buffer; byte 0 holds the owning CPU of a cache object (not Linux's use).</summary>
    [FieldOffset(40)] public byte cb;
    [FieldOffset(88)] public ulong _skb_refdst;
    [FieldOffset(112)] public uint len;
    [FieldOffset(116)] public uint data_len;
    [FieldOffset(120)] public ushort mac_len;
    [FieldOffset(124)] public ushort queue_mapping;
    [FieldOffset(128)] public byte pkt_type;
    /// <summary>CHECKSUM_NONE (0) or CHECKSUM_UNNECESSARY (1), as the driver set it.</summary>
    [FieldOffset(129)] public byte ip_summed;
    [FieldOffset(144)] public int skb_iif;
    [FieldOffset(148)] public uint hash;
    [FieldOffset(160)] public uint napi_id;
    [FieldOffset(168)] public uint mark;
    /// <summary>The ethertype in network byte order (htons(ETH_P_IP) = 0x0008 read little-endian).</summary>
    [FieldOffset(180)] public ushort protocol;
    [FieldOffset(182)] public ushort transport_header;
    [FieldOffset(184)] public ushort network_header;
    [FieldOffset(186)] public ushort mac_header;
    [FieldOffset(188)] public uint tail;
    [FieldOffset(192)] public uint end;
    [FieldOffset(200)] public ulong head;
    [FieldOffset(208)] public ulong data;
    [FieldOffset(216)] public uint truesize;
    [FieldOffset(220)] public int users;
    /// <summary>Index of the object in its per-CPU cache (simulation bookkeeping in the padding after users).</summary>
    [FieldOffset(224)] public int cache_index;
    [FieldOffset(228)] public short cache_cpu;
}

/// <summary>
/// The part of <c>struct net_device</c> the path reads: <c>name[IFNAMSIZ]</c> first, as in Linux, then the fields the
/// simulation needs (ifindex, mtu, addr_len, the MAC address). Offsets past <c>name</c> are KernelSim's own.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public unsafe struct NetDeviceStruct
{
    public const int Size = 128;

    /// <summary>IFNAMSIZ.</summary>
    public const int NameSize = 16;

    [FieldOffset(0)] public fixed byte name[NameSize];
    [FieldOffset(16)] public int ifindex;
    [FieldOffset(20)] public uint mtu;
    [FieldOffset(24)] public uint flags;
    [FieldOffset(28)] public byte addr_len;
    [FieldOffset(32)] public fixed byte dev_addr[32];
}

/// <summary>
/// <c>struct packet_type</c>: <c>type</c> (be16) at 0, <c>dev</c> at 8, <c>func</c> at 16 as in Linux; <c>func</c>
/// holds the managed entry of the handler. <c>af_packet_priv</c> holds the entry's index in the stack's table.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct PacketTypeStruct
{
    [FieldOffset(0)] public ushort type;
    [FieldOffset(2)] public byte ignore_outgoing;
    [FieldOffset(8)] public ulong dev;
    [FieldOffset(16)] public ulong func;
    [FieldOffset(24)] public ulong list_func;
    [FieldOffset(40)] public ulong af_packet_priv;
}

/// <summary><c>struct xdp_buff</c>: data, data_end, data_meta, data_hard_start, rxq (what an XDP program's ctx points at).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct XdpBuff
{
    [FieldOffset(0)] public ulong data;
    [FieldOffset(8)] public ulong data_end;
    [FieldOffset(16)] public ulong data_meta;
    [FieldOffset(24)] public ulong data_hard_start;
    [FieldOffset(32)] public ulong rxq;
    [FieldOffset(40)] public uint frame_sz;
    [FieldOffset(44)] public uint flags;
}

/// <summary>Linux constants of the receive path (include/uapi/linux/if_ether.h, if_packet.h, netdevice.h, in.h).</summary>
public static class NetConst
{
    public const ushort EthPIp = 0x0800;
    public const ushort EthPArp = 0x0806;
    public const ushort EthPIpv6 = 0x86DD;
    public const ushort EthPAll = 0x0003;
    public const ushort EthP8021Q = 0x8100;

    /// <summary>ETH_HLEN.</summary>
    public const int EthHlen = 14;

    /// <summary>PTYPE_HASH_SIZE (16) − 1.</summary>
    public const int PtypeHashMask = 15;

    public const byte PacketHost = 0;
    public const byte PacketBroadcast = 1;
    public const byte PacketMulticast = 2;
    public const byte PacketOtherHost = 3;

    public const int NetRxSuccess = 0;
    public const int NetRxDrop = 1;

    public const byte IpProtoIcmp = 1;
    public const byte IpProtoTcp = 6;
    public const byte IpProtoUdp = 17;
    public const byte IpProtoIcmpv6 = 58;
    public const byte IpProtoGre = 47;

    /// <summary>NAPI_POLL_WEIGHT.</summary>
    public const int NapiPollWeight = 64;

    /// <summary>htons for the <c>protocol</c> field as stored (network order read as a little-endian ushort).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Htons(ushort host) => BinaryPrimitives.ReverseEndianness(host);
}
