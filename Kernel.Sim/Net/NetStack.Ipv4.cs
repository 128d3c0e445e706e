using System.Buffers.Binary;
using Kernel.Sim.Core;

namespace Kernel.Sim.Net;

// net/ipv4: ip_input.c (ip_rcv, ip_rcv_core, ip_rcv_finish, ip_local_deliver, ip_protocol_deliver_rcu), route.c
// (ip_route_input_noref, ip_error), udp.c, tcp_ipv4.c, icmp.c; and the UDP/TCP parts IPv6 shares.
public sealed unsafe partial class NetStack
{
    private const ulong DstLocal = 1;
    private const ulong DstUnreachable = 2;
    private const ulong Dst6Local = 3;
    private const ulong Dst6Forward = 4;

    internal int IpRcvEntry(NetCpu c, PtypeArgs a)
    {
        var f = F.ip_rcv;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)a.Skb, (ulong)a.Dev, (ulong)a.Pt, (ulong)a.OrigDev, 0, 0) : ip_rcv(c, (SkBuff*)a.Skb);
    }

    private int ip_rcv(NetCpu c, SkBuff* skb)
    {
        Work(c, 20);
        var r = F.Ret(F.ip_rcv, 0x2e);
        Enter(c, r);
        var next = F.ip_rcv_core.Fentry is { } h ? (SkBuff*)h.Invoke(F.ip_rcv_core, r, (ulong)skb, 0, 0, 0, 0, 0) : ip_rcv_core(c, skb);
        Leave(c, r);
        if (next is null)
            return NetConst.NetRxDrop;
        // NF_HOOK(NFPROTO_IPV4, NF_INET_PRE_ROUTING, ...): no netfilter hooks registered, so okfn runs directly.
        var r2 = F.Ret(F.ip_rcv, 0x5c);
        Enter(c, r2);
        var ret = F.ip_rcv_finish.Fentry is { } h2 ? (int)h2.Invoke(F.ip_rcv_finish, r2, 0, 0, (ulong)next, 0, 0, 0) : ip_rcv_finish(c, next);
        Leave(c, r2);
        return ret;
    }

    private SkBuff* ip_rcv_core(NetCpu c, SkBuff* skb)
    {
        Work(c, 100);
        var reason = DropReason.NOT_SPECIFIED;
        if (skb->pkt_type == NetConst.PacketOtherHost)
        {
            KfreeSkb(c, skb, DropReason.OTHERHOST, F.ip_rcv_core, 0x31e);
            return null;
        }

        c.C[(int)NetCounter.IpInReceives]++;
        c.C[(int)NetCounter.IpExtInOctets] += skb->len;
        var iph = (byte*)skb->data;
        if (skb->len < 20)
            goto inhdr_error;
        var ihl = iph[0] & 0xF;
        if (ihl < 5 || (iph[0] >> 4) != 4)
            goto inhdr_error;
        if ((iph[1] & 3) == 0)
            c.C[(int)NetCounter.IpExtInNoEctPkts]++;
        if (skb->len < (uint)(ihl * 4))
            goto inhdr_error;
        if (InetChecksum.IpFastCsum(iph, ihl) != 0)
            goto csum_error;
        var len = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(iph + 2, 2));
        if (skb->len < len)
        {
            c.C[(int)NetCounter.IpExtInTruncatedPkts]++;
            KfreeSkb(c, skb, DropReason.PKT_TOO_SMALL, F.ip_rcv_core, 0x2f0);
            return null;
        }

        if (len < ihl * 4)
            goto inhdr_error;
        // pskb_trim_rcsum: drop the Ethernet padding.
        skb->len = len;
        skb->tail = (uint)(skb->data - skb->head) + len;
        skb->transport_header = (ushort)(skb->network_header + (ihl * 4));
        return skb;

    csum_error:
        reason = DropReason.IP_CSUM;
        c.C[(int)NetCounter.IpExtInCsumErrors]++;
    inhdr_error:
        if (reason == DropReason.NOT_SPECIFIED)
            reason = DropReason.IP_INHDR;
        c.C[(int)NetCounter.IpInHdrErrors]++;
        KfreeSkb(c, skb, reason, F.ip_rcv_core, 0x35a);
        return null;
    }

    private int ip_rcv_finish(NetCpu c, SkBuff* skb)
    {
        Work(c, 30);
        // ip_rcv_finish_core: no early demux socket, so the route lookup decides dst->input.
        var r = F.Ret(F.ip_rcv_finish, 0x41);
        Enter(c, r);
        _ = F.ip_route_input_noref.Fentry is { } h ? (int)h.Invoke(F.ip_route_input_noref, r, (ulong)skb, 0, 0, 0, (ulong)Device, 0) : ip_route_input_noref(c, skb);
        Leave(c, r);
        // dst_input(skb): INDIRECT_CALL_INET(skb_dst(skb)->input, ip6_input, ip_local_deliver, skb).
        c.SiteReturn = F.Ret(F.ip_rcv_finish, 0x6a + 3);
        return DstInputSite.Call(skb->_skb_refdst == DstLocal ? IpLocalDeliverFunc : IpErrorFunc, new SkbArgs((nint)skb) { Cpu = c });
    }

    private int ip_route_input_noref(NetCpu c, SkBuff* skb)
    {
        Work(c, 220);
        var iph = (byte*)skb->data;
        var daddr = new ReadOnlySpan<byte>(iph + 16, 4);
        // Local table: the host address and limited broadcast. Forwarding is off, so anything else is unreachable.
        var local = daddr.SequenceEqual(TrafficGenerator.HostIpv4) || BinaryPrimitives.ReadUInt32BigEndian(daddr) == 0xFFFF_FFFF;
        skb->_skb_refdst = local ? DstLocal : DstUnreachable;
        return 0;
    }

    internal int IpErrorEntry(NetCpu c, nint skb)
    {
        var f = F.ip_error;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)skb, 0, 0, 0, 0, 0) : ip_error(c, (SkBuff*)skb);
    }

    private int ip_error(NetCpu c, SkBuff* skb)
    {
        Work(c, 60);
        // !IN_DEV_FORWARD with dst.error == EHOSTUNREACH.
        c.C[(int)NetCounter.IpInAddrErrors]++;
        KfreeSkb(c, skb, DropReason.IP_INADDRERRORS, F.ip_error, 0x13c);
        return 0;
    }

    internal int IpLocalDeliverEntry(NetCpu c, nint skb)
    {
        var f = F.ip_local_deliver;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)skb, 0, 0, 0, 0, 0) : ip_local_deliver(c, (SkBuff*)skb);
    }

    private int ip_local_deliver(NetCpu c, SkBuff* skb)
    {
        Work(c, 30);
        var iph = (byte*)skb->data;
        if ((BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(iph + 6, 2)) & 0x3FFF) != 0)
        {
            // ip_defrag is not modelled: a fragment is discarded.
            c.C[(int)NetCounter.IpInDiscards]++;
            KfreeSkb(c, skb, DropReason.NOT_SPECIFIED, F.ip_local_deliver, 0x9a);
            return 0;
        }

        var r = F.Ret(F.ip_local_deliver, 0xd2);
        Enter(c, r);
        var ret = F.ip_local_deliver_finish.Fentry is { } h ? (int)h.Invoke(F.ip_local_deliver_finish, r, 0, 0, (ulong)skb, 0, 0, 0) : ip_local_deliver_finish(c, skb);
        Leave(c, r);
        return ret;
    }

    private int ip_local_deliver_finish(NetCpu c, SkBuff* skb)
    {
        Work(c, 20);
        var iph = (byte*)skb->data;
        var ihl = (iph[0] & 0xF) * 4;
        var protocol = iph[9];
        // __skb_pull(skb, skb_network_header_len(skb))
        skb->data += (ulong)ihl;
        skb->len -= (uint)ihl;
        var r = F.Ret(F.ip_local_deliver_finish, 0x4b);
        Enter(c, r);
        if (F.ip_protocol_deliver_rcu.Fentry is { } h)
            h.Invoke(F.ip_protocol_deliver_rcu, r, 0, (ulong)skb, protocol, 0, 0, 0);
        else
            ip_protocol_deliver_rcu(c, skb, protocol);
        Leave(c, r);
        return 0;
    }

    private void ip_protocol_deliver_rcu(NetCpu c, SkBuff* skb, int protocol)
    {
        Work(c, 40);
        // raw_local_deliver: no raw sockets.
        var handler = _inetProtos[protocol & 0xFF];
        if (handler is not null)
        {
            c.SiteReturn = F.Ret(F.ip_protocol_deliver_rcu, 0x73 + 3);
            var ret = L4Site.Call(handler, new SkbArgs((nint)skb) { Cpu = c });
            if (ret >= 0)
                c.C[(int)NetCounter.IpInDelivers]++;
            return;
        }

        c.C[(int)NetCounter.IpInUnknownProtos]++;
        KfreeSkb(c, skb, DropReason.IP_NOPROTO, F.ip_protocol_deliver_rcu, 0x15e);
    }

    internal int UdpRcvEntry(NetCpu c, nint skb)
    {
        var f = F.udp_rcv;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)skb, 0, 0, 0, 0, 0) : udp_rcv(c, (SkBuff*)skb);
    }

    private int udp_rcv(NetCpu c, SkBuff* skb)
    {
        Work(c, 10);
        var r = F.Ret(F.udp_rcv, 0x15);
        Enter(c, r);
        var ret = F.__udp4_lib_rcv.Fentry is { } h ? (int)h.Invoke(F.__udp4_lib_rcv, r, (ulong)skb, 0, NetConst.IpProtoUdp, 0, 0, 0) : __udp4_lib_rcv(c, skb);
        Leave(c, r);
        return ret;
    }

    private int __udp4_lib_rcv(NetCpu c, SkBuff* skb) => UdpLibRcv(c, skb, v6: false);

    internal int Udpv6RcvEntry(NetCpu c, nint skb)
    {
        var f = F.udpv6_rcv;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)skb, 0, 0, 0, 0, 0) : udpv6_rcv(c, (SkBuff*)skb);
    }

    private int udpv6_rcv(NetCpu c, SkBuff* skb)
    {
        Work(c, 10);
        var r = F.Ret(F.udpv6_rcv, 0x15);
        Enter(c, r);
        var ret = F.__udp6_lib_rcv.Fentry is { } h ? (int)h.Invoke(F.__udp6_lib_rcv, r, (ulong)skb, 0, NetConst.IpProtoUdp, 0, 0, 0) : __udp6_lib_rcv(c, skb);
        Leave(c, r);
        return ret;
    }

    private int __udp6_lib_rcv(NetCpu c, SkBuff* skb) => UdpLibRcv(c, skb, v6: true);

    // __udp4_lib_rcv / __udp6_lib_rcv: length checks, socket lookup, queueing; no socket → NoPorts (after the
    // checksum, which a packet without a socket must pass to be counted as NoPorts rather than a checksum error).
    private int UdpLibRcv(NetCpu c, SkBuff* skb, bool v6)
    {
        Work(c, 150);
        var self = v6 ? F.__udp6_lib_rcv : F.__udp4_lib_rcv;
        var inErrors = v6 ? NetCounter.Udp6InErrors : NetCounter.UdpInErrors;
        var csumErrors = v6 ? NetCounter.Udp6InCsumErrors : NetCounter.UdpInCsumErrors;
        DropReason reason;
        if (skb->len < 8)
        {
            reason = DropReason.PKT_TOO_SMALL;
            goto drop;
        }

        var uh = (byte*)skb->data;
        var ulen = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(uh + 4, 2));
        if (ulen > skb->len || ulen < 8)
        {
            reason = DropReason.PKT_TOO_SMALL;
            goto drop;
        }

        skb->len = ulen;
        var dport = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(uh + 2, 2));
        if (v6)
        {
            Work(c, 200); // __udp6_lib_lookup, inlined in the IPv6 path
            if (_udpPorts[dport])
                return QueueUdp(c, skb, v6);
        }
        else
        {
            var r = F.Ret(self, 0x2c7);
            Enter(c, r);
            var sk = F.__udp4_lib_lookup.Fentry is { } h ? h.Invoke(F.__udp4_lib_lookup, r, 0, 0, 0, 0, dport, 0) : __udp4_lib_lookup(c, dport);
            Leave(c, r);
            if (sk != 0)
                return QueueUdp(c, skb, v6);
        }

        if (!L4ChecksumOk(skb, NetConst.IpProtoUdp, v6))
        {
            reason = DropReason.UDP_CSUM;
            c.C[(int)csumErrors]++;
            goto drop;
        }

        c.C[(int)(v6 ? NetCounter.Udp6NoPorts : NetCounter.UdpNoPorts)]++;
        // icmp_send(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH) is rate limited and has no tx path here; not counted.
        KfreeSkb(c, skb, DropReason.NO_SOCKET, self, 0x40b);
        return 0;

    drop:
        c.C[(int)inErrors]++;
        KfreeSkb(c, skb, reason, self, 0x51d);
        return 0;
    }

    private ulong __udp4_lib_lookup(NetCpu c, ushort dport)
    {
        Work(c, 200);
        return _udpPorts[dport] ? 1UL : 0;
    }

    private int QueueUdp(NetCpu c, SkBuff* skb, bool v6)
    {
        var f = v6 ? F.udpv6_queue_rcv_skb : F.udp_queue_rcv_skb;
        var r = F.Ret(v6 ? F.__udp6_lib_rcv : F.__udp4_lib_rcv, 0x35e);
        Enter(c, r);
        var ret = f.Fentry is { } h ? (int)h.Invoke(f, r, 0, (ulong)skb, 0, 0, 0, 0) : udp_queue_rcv_skb(c, skb, v6);
        Leave(c, r);
        return ret;
    }

    // Queues on the socket and wakes its reader, which the simulation runs at once: udp_recvmsg dequeues the datagram,
    // verifies the checksum while copying (skb_copy_and_csum_datagram_msg) and counts InDatagrams there, as Linux does.
    private int udp_queue_rcv_skb(NetCpu c, SkBuff* skb, bool v6)
    {
        Work(c, 350);
        var f = v6 ? F.udpv6_recvmsg : F.udp_recvmsg;
        var r = F.Ret(v6 ? F.udpv6_queue_rcv_skb : F.udp_queue_rcv_skb, 0x1e0);
        Enter(c, r);
        _ = f.Fentry is { } h ? (int)h.Invoke(f, r, 0, (ulong)skb, skb->len, 0, 0, 0) : udp_recvmsg(c, skb, v6);
        Leave(c, r);
        return 0;
    }

    private int udp_recvmsg(NetCpu c, SkBuff* skb, bool v6)
    {
        Work(c, 300);
        var self = v6 ? F.udpv6_recvmsg : F.udp_recvmsg;
        if (!L4ChecksumOk(skb, NetConst.IpProtoUdp, v6))
        {
            c.C[(int)(v6 ? NetCounter.Udp6InCsumErrors : NetCounter.UdpInCsumErrors)]++;
            c.C[(int)(v6 ? NetCounter.Udp6InErrors : NetCounter.UdpInErrors)]++;
            KfreeSkb(c, skb, DropReason.UDP_CSUM, self, 0x2d8);
            return -11; // -EAGAIN: nothing to read once the bad datagram is dropped
        }

        c.C[(int)(v6 ? NetCounter.Udp6InDatagrams : NetCounter.UdpInDatagrams)]++;
        var len = (int)skb->len - 8;
        ConsumeSkb(c, skb, self, 0x3b1);
        return len;
    }

    internal int TcpV4RcvEntry(NetCpu c, nint skb)
    {
        var f = F.tcp_v4_rcv;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)skb, 0, 0, 0, 0, 0) : tcp_v4_rcv(c, (SkBuff*)skb);
    }

    private int tcp_v4_rcv(NetCpu c, SkBuff* skb) => TcpRcv(c, skb, v6: false);

    internal int TcpV6RcvEntry(NetCpu c, nint skb)
    {
        var f = F.tcp_v6_rcv;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)skb, 0, 0, 0, 0, 0) : tcp_v6_rcv(c, (SkBuff*)skb);
    }

    private int tcp_v6_rcv(NetCpu c, SkBuff* skb) => TcpRcv(c, skb, v6: true);

    // tcp_v4_rcv / tcp_v6_rcv: InSegs, header checks, the checksum (tcp_checksum_complete), the established-socket
    // lookup; no socket → a RST (OutRsts) and NO_SOCKET.
    private int TcpRcv(NetCpu c, SkBuff* skb, bool v6)
    {
        Work(c, 250);
        var self = v6 ? F.tcp_v6_rcv : F.tcp_v4_rcv;
        if (skb->pkt_type != NetConst.PacketHost)
        {
            KfreeSkb(c, skb, DropReason.OTHERHOST, self, 0x9f);
            return 0;
        }

        c.C[(int)NetCounter.TcpInSegs]++;
        var th = (byte*)skb->data;
        DropReason reason;
        if (skb->len < 20 || (th[12] >> 4) < 5 || skb->len < (uint)((th[12] >> 4) * 4))
        {
            reason = DropReason.PKT_TOO_SMALL;
            goto bad_packet;
        }

        if (!L4ChecksumOk(skb, NetConst.IpProtoTcp, v6))
        {
            reason = DropReason.TCP_CSUM;
            c.C[(int)NetCounter.TcpInCsumErrors]++;
            goto bad_packet;
        }

        Work(c, 150); // __inet_lookup_skb / __inet6_lookup_skb
        var dport = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(th + 2, 2));
        if (_tcpPorts[dport])
        {
            var f = v6 ? F.tcp_v6_do_rcv : F.tcp_v4_do_rcv;
            var r = F.Ret(self, 0x6e5);
            Enter(c, r);
            var ret = f.Fentry is { } h ? (int)h.Invoke(f, r, 0, (ulong)skb, 0, 0, 0, 0) : tcp_do_rcv(c, skb, v6);
            Leave(c, r);
            return ret;
        }

        var reset = v6 ? F.tcp_v6_send_reset : F.tcp_v4_send_reset;
        var rr = F.Ret(self, 0x8c1);
        Enter(c, rr);
        if (reset.Fentry is { } hr)
            hr.Invoke(reset, rr, 0, (ulong)skb, 0, 0, 0, 0);
        else
            tcp_send_reset(c, v6);
        Leave(c, rr);
        KfreeSkb(c, skb, DropReason.NO_SOCKET, self, 0x8d9);
        return 0;

    bad_packet:
        c.C[(int)NetCounter.TcpInErrs]++;
        KfreeSkb(c, skb, reason, self, 0x99a);
        return 0;
    }

    // tcp_rcv_established's fast path: the segment is in order for the connection, queued and read.
    private int tcp_do_rcv(NetCpu c, SkBuff* skb, bool v6)
    {
        Work(c, 600);
        ConsumeSkb(c, skb, v6 ? F.tcp_v6_do_rcv : F.tcp_v4_do_rcv, 0x1d2);
        return 0;
    }

    private void tcp_send_reset(NetCpu c, bool v6)
    {
        Work(c, 450);
        c.C[(int)NetCounter.TcpOutRsts]++;
    }

    internal int IcmpRcvEntry(NetCpu c, nint skb)
    {
        var f = F.icmp_rcv;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)skb, 0, 0, 0, 0, 0) : icmp_rcv(c, (SkBuff*)skb);
    }

    private int icmp_rcv(NetCpu c, SkBuff* skb)
    {
        Work(c, 80);
        c.C[(int)NetCounter.IcmpInMsgs]++;
        var icmph = (byte*)skb->data;
        DropReason reason;
        if (InetChecksum.Compute(new ReadOnlySpan<byte>(icmph, (int)skb->len)) != 0)
        {
            reason = DropReason.ICMP_CSUM;
            c.C[(int)NetCounter.IcmpInCsumErrors]++;
            goto error;
        }

        if (skb->len < 8)
        {
            reason = DropReason.PKT_TOO_SMALL;
            goto error;
        }

        var type = icmph[0];
        c.IcmpIn[type]++;
        if (type == 3)
            c.C[(int)NetCounter.IcmpInDestUnreachs]++;
        else if (type == 0)
            c.C[(int)NetCounter.IcmpInEchoReps]++;
        if (type == 8)
        {
            c.C[(int)NetCounter.IcmpInEchos]++;
            var r = F.Ret(F.icmp_rcv, 0x1a9);
            Enter(c, r);
            _ = F.icmp_echo.Fentry is { } h ? h.Invoke(F.icmp_echo, r, (ulong)skb, 0, 0, 0, 0, 0) : icmp_echo(c, skb);
            Leave(c, r);
        }
        else if (type > 18)
        {
            reason = DropReason.UNHANDLED_PROTO;
            goto error;
        }

        ConsumeSkb(c, skb, F.icmp_rcv, 0x1f4);
        return NetConst.NetRxSuccess;

    error:
        c.C[(int)NetCounter.IcmpInErrors]++;
        KfreeSkb(c, skb, reason, F.icmp_rcv, 0x2c8);
        return NetConst.NetRxDrop;
    }

    // icmp_echo → icmp_reply: the echo reply is built and counted (OutMsgs, OutEchoReps); there is no wire to send it on.
    private ulong icmp_echo(NetCpu c, SkBuff* skb)
    {
        Work(c, 300);
        c.C[(int)NetCounter.IcmpOutMsgs]++;
        c.C[(int)NetCounter.IcmpOutEchoReps]++;
        return 0;
    }

    // The L4 checksum: trusted when the NIC set CHECKSUM_UNNECESSARY, computed over the segment otherwise.
    private static bool L4ChecksumOk(SkBuff* skb, byte protocol, bool v6)
    {
        if (skb->ip_summed == 1)
            return true;
        var nh = (byte*)(skb->head + skb->network_header);
        var segment = new ReadOnlySpan<byte>((byte*)skb->data, (int)skb->len);
        var pseudo = v6
            ? InetChecksum.PseudoV6(new ReadOnlySpan<byte>(nh + 8, 16), new ReadOnlySpan<byte>(nh + 24, 16), protocol, segment.Length)
            : InetChecksum.PseudoV4(new ReadOnlySpan<byte>(nh + 12, 4), new ReadOnlySpan<byte>(nh + 16, 4), protocol, segment.Length);
        return InetChecksum.Fold(InetChecksum.Partial(segment, pseudo)) == 0;
    }
}
