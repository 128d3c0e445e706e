using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kernel.Sim.Net;

/// <summary>
/// <c>struct sk_buff</c> in kernel memory with the offsets of <c>bpf/include/vmlinux.h</c> (x86-64 Linux 6.x up to
/// <c>users</c>): <c>dev</c> 16, <c>len</c> 112, <c>pkt_type</c>/<c>ip_summed</c> bits in byte 128, <c>protocol</c>
/// 164, the header offsets 166–170, <c>head</c> 184, <c>data</c> 192. Probes such as <c>+112(%di):u32</c> or a BPF
/// <c>BPF_CORE_READ(skb, len)</c> read what they read on a real kernel. 232 bytes are allocated per skb (Linux's
/// sizeof); the cache's bookkeeping sits after <c>users</c>.
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
    [FieldOffset(40)] public byte cb;
    [FieldOffset(88)] public ulong _skb_refdst;
    [FieldOffset(112)] public uint len;
    [FieldOffset(116)] public uint data_len;
    [FieldOffset(120)] public ushort mac_len;
    [FieldOffset(124)] public ushort queue_mapping;
    /// <summary>pkt_type:3, ignore_df:1, dst_pending_confirm:1, ip_summed:2, ooo_okay:1.</summary>
    [FieldOffset(128)] public byte pkt_type_bits;
    [FieldOffset(136)] public int skb_iif;
    [FieldOffset(140)] public uint hash;
    [FieldOffset(148)] public uint napi_id;
    [FieldOffset(152)] public uint mark;
    /// <summary>The ethertype in network byte order (htons(ETH_P_IP) = 0x0008 read little-endian).</summary>
    [FieldOffset(164)] public ushort protocol;
    [FieldOffset(166)] public ushort transport_header;
    [FieldOffset(168)] public ushort network_header;
    [FieldOffset(170)] public ushort mac_header;
    [FieldOffset(172)] public uint tail;
    [FieldOffset(176)] public uint end;
    [FieldOffset(184)] public ulong head;
    [FieldOffset(192)] public ulong data;
    [FieldOffset(200)] public uint truesize;
    [FieldOffset(204)] public int users;
    /// <summary>Index of the object in its per-CPU cache (simulation bookkeeping after the Linux fields).</summary>
    [FieldOffset(208)] public int cache_index;
    [FieldOffset(212)] public short cache_cpu;

    /// <summary>pkt_type (PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST).</summary>
    public byte pkt_type
    {
        readonly get => (byte)(pkt_type_bits & 7);
        set => pkt_type_bits = (byte)((pkt_type_bits & ~7) | (value & 7));
    }

    /// <summary>ip_summed: CHECKSUM_NONE (0) or CHECKSUM_UNNECESSARY (1), as the driver set it.</summary>
    public byte ip_summed
    {
        readonly get => (byte)((pkt_type_bits >> 5) & 3);
        set => pkt_type_bits = (byte)((pkt_type_bits & ~0x60) | ((value & 3) << 5));
    }
}

/// <summary>
/// The part of <c>struct net_device</c> the path reads, at <c>bpf/include/vmlinux.h</c>'s offsets: <c>name[IFNAMSIZ]</c>,
/// flags, ifindex, mtu, addr_len and the MAC address.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public unsafe struct NetDeviceStruct
{
    public const int Size = 128;

    /// <summary>IFNAMSIZ.</summary>
    public const int NameSize = 16;

    [FieldOffset(0)] public fixed byte name[NameSize];
    [FieldOffset(40)] public uint flags;
    [FieldOffset(48)] public int ifindex;
    [FieldOffset(52)] public uint mtu;
    [FieldOffset(60)] public byte addr_len;
    [FieldOffset(61)] public fixed byte dev_addr[32];
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

/// <summary>
/// The simulated <c>struct xdp_buff</c> an XDP program's ctx points at, in the layout the BPF loader's
/// convert_ctx_accesses rewrites <c>struct xdp_md</c> loads to: 64-bit data, data_end, data_meta, then
/// ingress_ifindex, rx_queue_index, egress_ifindex; the driver's own fields follow.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 56)]
public struct XdpBuff
{
    [FieldOffset(0)] public ulong data;
    [FieldOffset(8)] public ulong data_end;
    [FieldOffset(16)] public ulong data_meta;
    [FieldOffset(24)] public uint ingress_ifindex;
    [FieldOffset(28)] public uint rx_queue_index;
    [FieldOffset(32)] public uint egress_ifindex;
    [FieldOffset(40)] public ulong data_hard_start;
    [FieldOffset(48)] public uint frame_sz;
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
