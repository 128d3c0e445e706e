using System.Runtime.CompilerServices;

namespace Kernel.Sim.Net;

/// <summary>
/// Every counter the receive path keeps, one per-CPU slot each (Linux's per-CPU MIBs and device core stats, summed
/// when read). Names follow the kernel's: SNMP MIB items, <c>rtnl_link_stats64</c> fields, XDP actions.
/// </summary>
public enum NetCounter
{
    // struct net_device core stats / rtnl_link_stats64
    RxPackets, RxBytes, RxDropped, RxNohandler, RxMissedErrors, TxPackets,
    // softnet_data
    SoftnetProcessed, SoftnetTimeSqueeze,
    // XDP actions taken by the driver
    XdpAborted, XdpDrop, XdpPass, XdpTx, XdpRedirect,
    // Ip: (IPSTATS_MIB_*)
    IpInReceives, IpInHdrErrors, IpInAddrErrors, IpInUnknownProtos, IpInDiscards, IpInDelivers,
    // IpExt:
    IpExtInNoRoutes, IpExtInTruncatedPkts, IpExtInOctets, IpExtInCsumErrors, IpExtInNoEctPkts,
    // Icmp:
    IcmpInMsgs, IcmpInErrors, IcmpInCsumErrors, IcmpInDestUnreachs, IcmpInEchos, IcmpInEchoReps, IcmpOutMsgs, IcmpOutEchoReps,
    // Tcp:
    TcpInSegs, TcpInErrs, TcpOutRsts, TcpInCsumErrors,
    // Udp:
    UdpInDatagrams, UdpNoPorts, UdpInErrors, UdpInCsumErrors,
    // Ip6 / Icmp6 / Udp6 (/proc/net/snmp6)
    Ip6InReceives, Ip6InHdrErrors, Ip6InNoRoutes, Ip6InAddrErrors, Ip6InUnknownProtos, Ip6InTruncatedPkts, Ip6InDiscards, Ip6InDelivers, Ip6InOctets,
    Icmp6InMsgs, Icmp6InErrors, Icmp6InCsumErrors, Icmp6InEchos,
    Udp6InDatagrams, Udp6NoPorts, Udp6InErrors, Udp6InCsumErrors,
    // ARP (arp_process outcomes)
    ArpRequests, ArpReplies,
    // AF_PACKET tap (tp_packets)
    PacketTapPackets,
    // Where each frame ended: consumed by its protocol (delivered) or freed with a drop reason, per family
    DeliveredIpv4, DeliveredIpv6, DeliveredArp, DeliveredOther,
    DroppedIpv4, DroppedIpv6, DroppedArp, DroppedOther,
}

/// <summary>The family a frame's ethertype belongs to, for the delivered/dropped tallies.</summary>
public enum NetFamily
{
    Ipv4,
    Ipv6,
    Arp,
    Other,
}

/// <summary>
/// The path's per-CPU counters. Each CPU increments only its own array (no atomics, as <c>__this_cpu_inc</c>);
/// readers sum over CPUs when the CPUs are quiet.
/// </summary>
public sealed class NetCounters
{
    /// <summary>Number of <see cref="NetCounter"/> values.</summary>
    public static readonly int CounterCount = Enum.GetValues<NetCounter>().Length;

    /// <summary>Number of <see cref="DropReason"/> values.</summary>
    public static readonly int DropReasonCount = Enum.GetValues<DropReason>().Length;

    private readonly long[][] _counters;
    private readonly long[][] _dropReasons;
    private readonly long[][] _icmpInTypes;

    public NetCounters(int cpus)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        _counters = new long[cpus][];
        _dropReasons = new long[cpus][];
        _icmpInTypes = new long[cpus][];
        // Pinned: the path counts through pointers to them (no bounds check per increment; the indexes are enum constants).
        for (var i = 0; i < cpus; i++)
        {
            _counters[i] = GC.AllocateArray<long>(CounterCount, pinned: true);
            _dropReasons[i] = GC.AllocateArray<long>(DropReasonCount, pinned: true);
            _icmpInTypes[i] = GC.AllocateArray<long>(256, pinned: true);
        }
    }

    /// <summary>Number of CPUs.</summary>
    public int Cpus => _counters.Length;

    /// <summary>CPU <paramref name="cpu"/>'s counter array (indexed by <see cref="NetCounter"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long[] Of(int cpu) => _counters[cpu];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long[] DropReasonsOf(int cpu) => _dropReasons[cpu];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long[] IcmpInTypesOf(int cpu) => _icmpInTypes[cpu];

    /// <summary>The counter summed over every CPU.</summary>
    public long this[NetCounter counter] => _counters.Sum(c => c[(int)counter]);

    /// <summary>The counter on one CPU.</summary>
    public long OnCpu(int cpu, NetCounter counter) => _counters[cpu][(int)counter];

    /// <summary>Frees with <paramref name="reason"/>, summed over CPUs.</summary>
    public long Drops(DropReason reason) => _dropReasons.Sum(c => c[(int)reason]);

    /// <summary>ICMP messages received of <paramref name="type"/> (IcmpMsg: InTypeN), summed over CPUs.</summary>
    public long IcmpInType(int type) => _icmpInTypes.Sum(c => c[type]);

    /// <summary>Frames delivered (consumed by their protocol) of <paramref name="family"/>.</summary>
    public long Delivered(NetFamily family) => this[NetCounter.DeliveredIpv4 + (int)family];

    /// <summary>Frames dropped (freed with a reason, or by XDP) of <paramref name="family"/>.</summary>
    public long Dropped(NetFamily family) => this[NetCounter.DroppedIpv4 + (int)family];

    /// <summary>Every drop reason with a non-zero count, in enum order.</summary>
    public IReadOnlyList<(DropReason Reason, long Count)> DropReasons() =>
        [.. Enum.GetValues<DropReason>().Select(r => (r, Drops(r))).Where(p => p.Item2 != 0)];

    /// <summary>Zeroes every counter (only while no CPU runs the path).</summary>
    public void Reset()
    {
        foreach (var a in _counters)
            Array.Clear(a);
        foreach (var a in _dropReasons)
            Array.Clear(a);
        foreach (var a in _icmpInTypes)
            Array.Clear(a);
    }
}

/// <summary>
/// <c>enum skb_drop_reason</c> (include/net/dropreason-core.h): why <c>kfree_skb_reason</c> freed a packet. The
/// printed name is Linux's without the <c>SKB_DROP_REASON_</c> prefix.
/// </summary>
public enum DropReason
{
    NOT_SPECIFIED,
    NO_SOCKET,
    PKT_TOO_SMALL,
    TCP_CSUM,
    UDP_CSUM,
    OTHERHOST,
    IP_CSUM,
    IP_INHDR,
    IP_NOPROTO,
    UNHANDLED_PROTO,
    IP_INADDRERRORS,
    ICMP_CSUM,
    HDR_TRUNC,
    IPV6_BAD_EXTHDR,
    XDP,
}
