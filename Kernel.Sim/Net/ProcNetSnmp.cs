using System.Globalization;
using System.Text;

namespace Kernel.Sim.Net;

/// <summary>
/// The path's counters in the layouts of <c>/proc/net/snmp</c> (a header line of names and a line of values per
/// group), <c>/proc/net/netstat</c> (its <c>IpExt:</c> group) and <c>/proc/net/snmp6</c> (<c>"%-32s\t%lu"</c> per item).
/// Items the simulation never changes print their constant or 0, so every column is where Linux puts it.
/// </summary>
public static class ProcNetSnmp
{
    /// <summary>/proc/net/snmp.</summary>
    public static string Snmp(NetCounters c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var text = new StringBuilder();
        Group(text, "Ip",
        [
            ("Forwarding", 2), ("DefaultTTL", 64), ("InReceives", c[NetCounter.IpInReceives]), ("InHdrErrors", c[NetCounter.IpInHdrErrors]),
            ("InAddrErrors", c[NetCounter.IpInAddrErrors]), ("ForwDatagrams", 0), ("InUnknownProtos", c[NetCounter.IpInUnknownProtos]),
            ("InDiscards", c[NetCounter.IpInDiscards]), ("InDelivers", c[NetCounter.IpInDelivers]), ("OutRequests", 0), ("OutDiscards", 0),
            ("OutNoRoutes", 0), ("ReasmTimeout", 0), ("ReasmReqds", 0), ("ReasmOKs", 0), ("ReasmFails", 0), ("FragOKs", 0), ("FragFails", 0),
            ("FragCreates", 0), ("OutTransmits", 0),
        ]);
        Group(text, "Icmp",
        [
            ("InMsgs", c[NetCounter.IcmpInMsgs]), ("InErrors", c[NetCounter.IcmpInErrors]), ("InCsumErrors", c[NetCounter.IcmpInCsumErrors]),
            ("InDestUnreachs", c[NetCounter.IcmpInDestUnreachs]), ("InTimeExcds", 0), ("InParmProbs", 0), ("InSrcQuenchs", 0), ("InRedirects", 0),
            ("InEchos", c[NetCounter.IcmpInEchos]), ("InEchoReps", c[NetCounter.IcmpInEchoReps]), ("InTimestamps", 0), ("InTimestampReps", 0),
            ("InAddrMasks", 0), ("InAddrMaskReps", 0), ("OutMsgs", c[NetCounter.IcmpOutMsgs]), ("OutErrors", 0), ("OutRateLimitGlobal", 0),
            ("OutRateLimitHost", 0), ("OutDestUnreachs", 0), ("OutTimeExcds", 0), ("OutParmProbs", 0), ("OutSrcQuenchs", 0), ("OutRedirects", 0),
            ("OutEchos", 0), ("OutEchoReps", c[NetCounter.IcmpOutEchoReps]), ("OutTimestamps", 0), ("OutTimestampReps", 0), ("OutAddrMasks", 0),
            ("OutAddrMaskReps", 0),
        ]);
        // IcmpMsg lists only the types seen, In before Out, as icmpmsg_put does.
        var icmpMsg = new List<(string, long)>();
        for (var type = 0; type < 256; type++)
        {
            if (c.IcmpInType(type) is var n and > 0)
                icmpMsg.Add(($"InType{type}", n));
        }

        if (c[NetCounter.IcmpOutEchoReps] > 0)
            icmpMsg.Add(("OutType0", c[NetCounter.IcmpOutEchoReps]));
        if (icmpMsg.Count > 0)
            Group(text, "IcmpMsg", icmpMsg);
        Group(text, "Tcp",
        [
            ("RtoAlgorithm", 1), ("RtoMin", 200), ("RtoMax", 120000), ("MaxConn", -1), ("ActiveOpens", 0), ("PassiveOpens", 0),
            ("AttemptFails", 0), ("EstabResets", 0), ("CurrEstab", 0), ("InSegs", c[NetCounter.TcpInSegs]), ("OutSegs", c[NetCounter.TcpOutRsts]),
            ("RetransSegs", 0), ("InErrs", c[NetCounter.TcpInErrs]), ("OutRsts", c[NetCounter.TcpOutRsts]), ("InCsumErrors", c[NetCounter.TcpInCsumErrors]),
        ]);
        Group(text, "Udp",
        [
            ("InDatagrams", c[NetCounter.UdpInDatagrams]), ("NoPorts", c[NetCounter.UdpNoPorts]), ("InErrors", c[NetCounter.UdpInErrors]),
            ("OutDatagrams", 0), ("RcvbufErrors", 0), ("SndbufErrors", 0), ("InCsumErrors", c[NetCounter.UdpInCsumErrors]), ("IgnoredMulti", 0),
            ("MemErrors", 0),
        ]);
        Group(text, "UdpLite",
        [
            ("InDatagrams", 0), ("NoPorts", 0), ("InErrors", 0), ("OutDatagrams", 0), ("RcvbufErrors", 0), ("SndbufErrors", 0),
            ("InCsumErrors", 0), ("IgnoredMulti", 0), ("MemErrors", 0),
        ]);
        return text.ToString();
    }

    /// <summary>The <c>IpExt:</c> group of /proc/net/netstat (InTruncatedPkts lives here, not in snmp).</summary>
    public static string Netstat(NetCounters c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var text = new StringBuilder();
        Group(text, "IpExt",
        [
            ("InNoRoutes", c[NetCounter.IpExtInNoRoutes]), ("InTruncatedPkts", c[NetCounter.IpExtInTruncatedPkts]), ("InMcastPkts", 0),
            ("OutMcastPkts", 0), ("InBcastPkts", 0), ("OutBcastPkts", 0), ("InOctets", c[NetCounter.IpExtInOctets]), ("OutOctets", 0),
            ("InMcastOctets", 0), ("OutMcastOctets", 0), ("InBcastOctets", 0), ("OutBcastOctets", 0), ("InCsumErrors", c[NetCounter.IpExtInCsumErrors]),
            ("InNoECTPkts", c[NetCounter.IpExtInNoEctPkts]), ("InECT1Pkts", 0), ("InECT0Pkts", 0), ("InCEPkts", 0), ("ReasmOverlaps", 0),
        ]);
        return text.ToString();
    }

    /// <summary>/proc/net/snmp6 (the receive-side items).</summary>
    public static string Snmp6(NetCounters c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var text = new StringBuilder();
        (string, long)[] items =
        [
            ("Ip6InReceives", c[NetCounter.Ip6InReceives]), ("Ip6InHdrErrors", c[NetCounter.Ip6InHdrErrors]), ("Ip6InTooBigErrors", 0),
            ("Ip6InNoRoutes", c[NetCounter.Ip6InNoRoutes]), ("Ip6InAddrErrors", c[NetCounter.Ip6InAddrErrors]),
            ("Ip6InUnknownProtos", c[NetCounter.Ip6InUnknownProtos]), ("Ip6InTruncatedPkts", c[NetCounter.Ip6InTruncatedPkts]),
            ("Ip6InDiscards", c[NetCounter.Ip6InDiscards]), ("Ip6InDelivers", c[NetCounter.Ip6InDelivers]), ("Ip6InOctets", c[NetCounter.Ip6InOctets]),
            ("Icmp6InMsgs", c[NetCounter.Icmp6InMsgs]), ("Icmp6InErrors", c[NetCounter.Icmp6InErrors]), ("Icmp6OutMsgs", 0), ("Icmp6OutErrors", 0),
            ("Icmp6InCsumErrors", c[NetCounter.Icmp6InCsumErrors]), ("Icmp6InEchos", c[NetCounter.Icmp6InEchos]),
            ("Udp6InDatagrams", c[NetCounter.Udp6InDatagrams]), ("Udp6NoPorts", c[NetCounter.Udp6NoPorts]), ("Udp6InErrors", c[NetCounter.Udp6InErrors]),
            ("Udp6OutDatagrams", 0), ("Udp6RcvbufErrors", 0), ("Udp6SndbufErrors", 0), ("Udp6InCsumErrors", c[NetCounter.Udp6InCsumErrors]),
            ("Udp6IgnoredMulti", 0), ("Udp6MemErrors", 0),
        ];
        foreach (var (name, value) in items)
            text.Append(CultureInfo.InvariantCulture, $"{name,-32}\t{value}\n");
        return text.ToString();
    }

    private static void Group(StringBuilder text, string group, IReadOnlyList<(string Name, long Value)> items)
    {
        text.Append(group).Append(':');
        foreach (var (name, _) in items)
            text.Append(' ').Append(name);
        text.Append('\n').Append(group).Append(':');
        foreach (var (_, value) in items)
            text.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture));
        text.Append('\n');
    }
}
