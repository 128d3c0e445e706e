using System.Buffers.Binary;

namespace Kernel.Sim.Net;

// net/ipv6 (ip6_input.c, route.c, ip6_output.c's ip6_forward, icmp.c) and net/ipv4/arp.c.
public sealed unsafe partial class NetStack
{
    internal int Ipv6RcvEntry(NetCpu c, PtypeArgs a)
    {
        var f = F.ipv6_rcv;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)a.Skb, (ulong)a.Dev, (ulong)a.Pt, (ulong)a.OrigDev, 0, 0) : ipv6_rcv(c, (SkBuff*)a.Skb);
    }

    private int ipv6_rcv(NetCpu c, SkBuff* skb)
    {
        Work(c, 20);
        var r = F.Ret(F.ipv6_rcv, 0x3a);
        Enter(c, r);
        var next = F.ip6_rcv_core.Fentry is { } h ? (SkBuff*)h.Invoke(F.ip6_rcv_core, r, (ulong)skb, (ulong)Device, 0, 0, 0, 0) : ip6_rcv_core(c, skb);
        Leave(c, r);
        if (next is null)
            return NetConst.NetRxDrop;
        var r2 = F.Ret(F.ipv6_rcv, 0x8f);
        Enter(c, r2);
        var ret = F.ip6_rcv_finish.Fentry is { } h2 ? (int)h2.Invoke(F.ip6_rcv_finish, r2, 0, 0, (ulong)next, 0, 0, 0) : ip6_rcv_finish(c, next);
        Leave(c, r2);
        return ret;
    }

    private SkBuff* ip6_rcv_core(NetCpu c, SkBuff* skb)
    {
        Work(c, 100);
        if (skb->pkt_type == NetConst.PacketOtherHost)
        {
            KfreeSkb(c, skb, DropReason.OTHERHOST, F.ip6_rcv_core, 0x3d);
            return null;
        }

        c.C[(int)NetCounter.Ip6InReceives]++;
        c.C[(int)NetCounter.Ip6InOctets] += skb->len;
        var reason = DropReason.NOT_SPECIFIED;
        var hdr = (byte*)skb->data;
        if (skb->len < 40)
            goto err;
        if ((hdr[0] >> 4) != 6)
        {
            reason = DropReason.UNHANDLED_PROTO;
            goto err;
        }

        skb->transport_header = (ushort)(skb->network_header + 40);
        var payload = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(hdr + 4, 2));
        if (payload != 0 || hdr[6] != 0)
        {
            if (payload + 40u > skb->len)
            {
                c.C[(int)NetCounter.Ip6InTruncatedPkts]++;
                KfreeSkb(c, skb, DropReason.PKT_TOO_SMALL, F.ip6_rcv_core, 0x2b6);
                return null;
            }

            skb->len = payload + 40u;
            skb->tail = (uint)(skb->data - skb->head) + skb->len;
        }

        return skb;

    err:
        c.C[(int)NetCounter.Ip6InHdrErrors]++;
        KfreeSkb(c, skb, reason == DropReason.NOT_SPECIFIED ? DropReason.IP_INHDR : reason, F.ip6_rcv_core, 0x44a);
        return null;
    }

    private int ip6_rcv_finish(NetCpu c, SkBuff* skb)
    {
        Work(c, 30);
        var r = F.Ret(F.ip6_rcv_finish, 0x3c);
        Enter(c, r);
        if (F.ip6_route_input.Fentry is { } h)
            h.Invoke(F.ip6_route_input, r, (ulong)skb, 0, 0, 0, 0, 0);
        else
            ip6_route_input(c, skb);
        Leave(c, r);
        c.SiteReturn = F.Ret(F.ip6_rcv_finish, 0x5c + 3);
        return Dst6InputSite.Call(skb->_skb_refdst == Dst6Local ? Ip6InputFunc : Ip6ForwardFunc, new SkbArgs((nint)skb) { Cpu = c });
    }

    private void ip6_route_input(NetCpu c, SkBuff* skb)
    {
        Work(c, 250);
        var daddr = new ReadOnlySpan<byte>((byte*)skb->data + 24, 16);
        skb->_skb_refdst = daddr.SequenceEqual(TrafficGenerator.HostIpv6) ? Dst6Local : Dst6Forward;
    }

    internal int Ip6ForwardEntry(NetCpu c, nint skb)
    {
        var f = F.ip6_forward;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)skb, 0, 0, 0, 0, 0) : ip6_forward(c, (SkBuff*)skb);
    }

    // Forwarding is off (net.ipv6.conf.all.forwarding = 0): ip6_forward's first check.
    private int ip6_forward(NetCpu c, SkBuff* skb)
    {
        Work(c, 40);
        c.C[(int)NetCounter.Ip6InAddrErrors]++;
        KfreeSkb(c, skb, DropReason.IP_INADDRERRORS, F.ip6_forward, 0x4f);
        return 0;
    }

    internal int Ip6InputEntry(NetCpu c, nint skb)
    {
        var f = F.ip6_input;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)skb, 0, 0, 0, 0, 0) : ip6_input(c, (SkBuff*)skb);
    }

    private int ip6_input(NetCpu c, SkBuff* skb)
    {
        Work(c, 20);
        var r = F.Ret(F.ip6_input, 0x42);
        Enter(c, r);
        var ret = F.ip6_input_finish.Fentry is { } h ? (int)h.Invoke(F.ip6_input_finish, r, 0, 0, (ulong)skb, 0, 0, 0) : ip6_input_finish(c, skb);
        Leave(c, r);
        return ret;
    }

    private int ip6_input_finish(NetCpu c, SkBuff* skb)
    {
        Work(c, 20);
        var nexthdr = ((byte*)skb->data)[6];
        skb->data += 40;
        skb->len -= 40;
        var r = F.Ret(F.ip6_input_finish, 0x31);
        Enter(c, r);
        if (F.ip6_protocol_deliver_rcu.Fentry is { } h)
            h.Invoke(F.ip6_protocol_deliver_rcu, r, 0, (ulong)skb, nexthdr, 0, 0, 0);
        else
            ip6_protocol_deliver_rcu(c, skb, nexthdr);
        Leave(c, r);
        return 0;
    }

    private void ip6_protocol_deliver_rcu(NetCpu c, SkBuff* skb, int nexthdr)
    {
        Work(c, 60);
        var handler = _inet6Protos[nexthdr & 0xFF];
        if (handler is not null)
        {
            c.SiteReturn = F.Ret(F.ip6_protocol_deliver_rcu, 0x8d + 3);
            if (L4v6Site.Call(handler, new SkbArgs((nint)skb) { Cpu = c }) == 0)
                c.C[(int)NetCounter.Ip6InDelivers]++;
            return;
        }

        // Extension headers are not parsed: an unknown next header is an unknown protocol.
        c.C[(int)NetCounter.Ip6InUnknownProtos]++;
        KfreeSkb(c, skb, DropReason.IP_NOPROTO, F.ip6_protocol_deliver_rcu, 0x3c1);
    }

    internal int Icmpv6RcvEntry(NetCpu c, nint skb)
    {
        var f = F.icmpv6_rcv;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)skb, 0, 0, 0, 0, 0) : icmpv6_rcv(c, (SkBuff*)skb);
    }

    private int icmpv6_rcv(NetCpu c, SkBuff* skb)
    {
        Work(c, 120);
        c.C[(int)NetCounter.Icmp6InMsgs]++;
        DropReason reason;
        if (skb->len < 4 || !L4ChecksumOk(skb, NetConst.IpProtoIcmpv6, v6: true))
        {
            reason = DropReason.ICMP_CSUM;
            c.C[(int)NetCounter.Icmp6InCsumErrors]++;
            c.C[(int)NetCounter.Icmp6InErrors]++;
            KfreeSkb(c, skb, reason, F.icmpv6_rcv, 0x4e0);
            return 0;
        }

        if (((byte*)skb->data)[0] == 128)
        {
            c.C[(int)NetCounter.Icmp6InEchos]++;
            var r = F.Ret(F.icmpv6_rcv, 0x2f3);
            Enter(c, r);
            _ = F.icmpv6_echo_reply.Fentry is { } h ? h.Invoke(F.icmpv6_echo_reply, r, (ulong)skb, 0, 0, 0, 0, 0) : icmpv6_echo_reply(c, skb);
            Leave(c, r);
        }

        ConsumeSkb(c, skb, F.icmpv6_rcv, 0x35c);
        return 0;
    }

    private ulong icmpv6_echo_reply(NetCpu c, SkBuff* skb)
    {
        Work(c, 350);
        return 0;
    }

    internal int ArpRcvEntry(NetCpu c, PtypeArgs a)
    {
        var f = F.arp_rcv;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)a.Skb, (ulong)a.Dev, (ulong)a.Pt, (ulong)a.OrigDev, 0, 0) : arp_rcv(c, (SkBuff*)a.Skb);
    }

    private int arp_rcv(NetCpu c, SkBuff* skb)
    {
        Work(c, 60);
        if (skb->pkt_type == NetConst.PacketOtherHost)
        {
            ConsumeSkb(c, skb, F.arp_rcv, 0x5e);
            return 0;
        }

        // arp_hdr_len(dev): 8 + 2 * (addr_len + 4)
        if (skb->len < 8 + (2 * (6 + 4)))
        {
            KfreeSkb(c, skb, DropReason.PKT_TOO_SMALL, F.arp_rcv, 0x101);
            return 0;
        }

        var arp = (byte*)skb->data;
        if (arp[4] != Device->addr_len || arp[5] != 4)
        {
            KfreeSkb(c, skb, DropReason.NOT_SPECIFIED, F.arp_rcv, 0x101);
            return 0;
        }

        var r = F.Ret(F.arp_rcv, 0xe4);
        Enter(c, r);
        var ret = F.arp_process.Fentry is { } h ? (int)h.Invoke(F.arp_process, r, 0, 0, (ulong)skb, 0, 0, 0) : arp_process(c, skb);
        Leave(c, r);
        return ret;
    }

    // Requests for the host's address are answered, replies refresh the neighbour table; either way the skb is consumed.
    private int arp_process(NetCpu c, SkBuff* skb)
    {
        Work(c, 250);
        var arp = (byte*)skb->data;
        var op = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(arp + 6, 2));
        if (op == 1)
            c.C[(int)NetCounter.ArpRequests]++;
        else if (op == 2)
            c.C[(int)NetCounter.ArpReplies]++;
        ConsumeSkb(c, skb, F.arp_process, 0x5d1);
        return 0;
    }
}
