using System.Buffers.Binary;
using Kernel.Sim.Core;

namespace Kernel.Sim.Net;

// The simnic driver and net/core/dev.c: NAPI, XDP, skb construction, netif_receive_skb down to the ptype handler,
// and the two ways an skb ends (kfree_skb_reason, consume_skb). Work figures are modelled cycles of each body on a
// Skylake-class core (docs/packet-path.md lists them and where they come from).
public sealed unsafe partial class NetStack
{
    /// <summary>netdev_budget: frames one net_rx_action may process.</summary>
    public const int NetdevBudget = 300;

    private const ushort PIp = 0x0008;     // htons(ETH_P_IP)
    private const ushort PIpv6 = 0xDD86;   // htons(ETH_P_IPV6)
    private const ushort PArp = 0x0608;    // htons(ETH_P_ARP)

    private int net_rx_action(NetCpu c)
    {
        Work(c, 40);
        var queue = Nic.Queues[c.Id];
        var budget = NetdevBudget;
        var processed = 0;
        while (queue.Pending > 0)
        {
            if (budget <= 0)
            {
                // Linux re-raises NET_RX and counts a squeeze; the next softirq run continues where this one stopped.
                c.C[(int)NetCounter.SoftnetTimeSqueeze]++;
                budget = NetdevBudget;
            }

            var ret = F.Ret(F.net_rx_action, 0x1b5);
            Enter(c, ret);
            var work = F.__napi_poll.Fentry is { } h ? (int)h.Invoke(F.__napi_poll, ret, queue.Napi, 0, 0, 0, 0, 0) : __napi_poll(c, queue.Napi);
            Leave(c, ret);
            budget -= work;
            processed += work;
        }

        return processed;
    }

    private int __napi_poll(NetCpu c, ulong napi)
    {
        Work(c, 20);
        c.SiteReturn = F.Ret(F.__napi_poll, 0x33 + 3);
        return NapiPollSite.Call(SimnicPollFunc, new NapiArgs((nint)napi, *(int*)(napi + 4)) { Cpu = c });
    }

    internal int SimnicPollEntry(NetCpu c, NapiArgs a)
    {
        var f = F.simnic_poll;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)a.Napi, (ulong)a.Budget, 0, 0, 0, 0) : simnic_poll(c, (ulong)a.Napi, a.Budget);
    }

    private int simnic_poll(NetCpu c, ulong napi, int budget)
    {
        Work(c, 30);
        var queue = Nic.Queues[*(int*)napi];
        var done = 0;
        var xdp = Volatile.Read(ref _xdp);
        while (done < budget && queue.TryTake(out var buffer, out var length, out var status, out var hash))
        {
            done++;
            Work(c, 60);
            c.C[(int)NetCounter.RxPackets]++;
            c.C[(int)NetCounter.RxBytes] += length;
            var data = buffer + SimulatedNic.Headroom;
            if (xdp is not null)
            {
                var ctx = c.Xdp;
                ctx->data = data;
                ctx->data_meta = data;
                ctx->data_end = data + (ulong)length;
                ctx->data_hard_start = buffer;
                ctx->ingress_ifindex = (uint)Device->ifindex;
                ctx->rx_queue_index = (uint)queue.Index;
                ctx->frame_sz = SimulatedNic.BufferSize;
                var r0 = F.Ret(F.simnic_poll, 0x1d4);
                Enter(c, r0);
                var action = (uint)(F.bpf_prog_run_xdp.Fentry is { } hx
                    ? hx.Invoke(F.bpf_prog_run_xdp, r0, 0, (ulong)ctx, 0, 0, 0, 0)
                    : bpf_prog_run_xdp(c, ctx));
                Leave(c, r0);
                if (action != (uint)XdpAction.XDP_PASS)
                {
                    XdpVerdict(c, ctx, action);
                    continue;
                }

                c.C[(int)NetCounter.XdpPass]++;
                data = ctx->data;
                length = (int)(ctx->data_end - ctx->data);
            }

            var r1 = F.Ret(F.simnic_poll, 0x2a9);
            Enter(c, r1);
            var skb = F.napi_build_skb.Fentry is { } hb
                ? (SkBuff*)hb.Invoke(F.napi_build_skb, r1, buffer, SimulatedNic.BufferSize, 0, 0, 0, 0)
                : napi_build_skb(c, buffer, SimulatedNic.BufferSize);
            Leave(c, r1);
            if (skb is null)
            {
                c.C[(int)NetCounter.RxDropped]++;
                c.C[(int)NetCounter.DroppedIpv4 + (int)FamilyOfFrame(data, length)]++;
                continue;
            }

            // skb_reserve to the frame, skb_put its length, the hardware hash and checksum verdict.
            skb->data = data;
            skb->len = (uint)length;
            skb->tail = (uint)(data - buffer) + (uint)length;
            skb->hash = hash;
            skb->queue_mapping = (ushort)queue.Index;
            skb->ip_summed = (byte)((status & RxStatus.L4ChecksumGood) != 0 ? 1 : 0);
            skb->napi_id = (uint)(queue.Index + 1);

            var r2 = F.Ret(F.simnic_poll, 0x2f0);
            Enter(c, r2);
            skb->protocol = F.eth_type_trans.Fentry is { } he
                ? (ushort)he.Invoke(F.eth_type_trans, r2, (ulong)skb, (ulong)Device, 0, 0, 0, 0)
                : (ushort)eth_type_trans(c, skb);
            Leave(c, r2);

            var r3 = F.Ret(F.simnic_poll, 0x31c);
            Enter(c, r3);
            _ = F.netif_receive_skb.Fentry is { } hn ? (int)hn.Invoke(F.netif_receive_skb, r3, (ulong)skb, 0, 0, 0, 0, 0) : netif_receive_skb(c, skb);
            Leave(c, r3);
        }

        return done;
    }

    private void XdpVerdict(NetCpu c, XdpBuff* ctx, uint action)
    {
        var family = FamilyOfFrame(ctx->data, (int)(ctx->data_end - ctx->data));
        switch (action)
        {
            case (uint)XdpAction.XDP_DROP:
                c.C[(int)NetCounter.XdpDrop]++;
                break;
            case (uint)XdpAction.XDP_TX:
                c.C[(int)NetCounter.XdpTx]++;
                var r = F.Ret(F.simnic_poll, 0x236);
                Enter(c, r);
                _ = F.simnic_xmit_xdp_frame.Fentry is { } h ? (int)h.Invoke(F.simnic_xmit_xdp_frame, r, 0, (ulong)ctx, 0, 0, 0, 0) : simnic_xmit_xdp_frame(c, ctx);
                Leave(c, r);
                return;
            case (uint)XdpAction.XDP_REDIRECT:
                // No redirect map is modelled: xdp_do_redirect fails and the driver drops the frame.
                c.C[(int)NetCounter.XdpRedirect]++;
                break;
            default:
                // XDP_ABORTED and invalid actions (bpf_warn_invalid_xdp_action): trace_xdp_exception, then drop.
                c.C[(int)NetCounter.XdpAborted]++;
                break;
        }

        c.C[(int)NetCounter.DroppedIpv4 + (int)family]++;
    }

    private ulong bpf_prog_run_xdp(NetCpu c, XdpBuff* ctx)
    {
        Work(c, 15);
        c.SiteReturn = F.Ret(F.bpf_prog_run_xdp, 0x1f + 3);
        return (uint)XdpSite.Call(XdpProgFunc, new XdpArgs((nint)ctx) { Cpu = c });
    }

    internal int XdpProgEntry(NetCpu c, nint ctx) => (int)(Volatile.Read(ref _xdp)?.Run((XdpBuff*)ctx, c.Id) ?? (uint)XdpAction.XDP_PASS);

    private int simnic_xmit_xdp_frame(NetCpu c, XdpBuff* ctx)
    {
        Work(c, 80);
        c.C[(int)NetCounter.TxPackets]++;
        return 0;
    }

    private SkBuff* napi_build_skb(NetCpu c, ulong buffer, int fragSize)
    {
        Work(c, 90);
        if (c.FreeCount == 0)
            return null;
        var skb = c.Skbs + c.Free[--c.FreeCount];
        var index = skb->cache_index;
        var cpu = skb->cache_cpu;
        // __build_skb_around: memset the head of the struct up to tail, then the buffer geometry.
        new Span<byte>(skb, 172).Clear();
        skb->cache_index = index;
        skb->cache_cpu = cpu;
        skb->head = buffer;
        skb->data = buffer;
        skb->tail = 0;
        skb->end = (uint)fragSize - 320; // SKB_WITH_OVERHEAD: skb_shared_info at the end of the buffer
        skb->truesize = (uint)(fragSize + SkBuff.Size);
        skb->users = 1;
        skb->dev = (ulong)Device;
        skb->mac_header = 0xFFFF;
        skb->transport_header = 0xFFFF;
        skb->tstamp = c.Cpu.ClockNs;
        return skb;
    }

    private ulong eth_type_trans(NetCpu c, SkBuff* skb)
    {
        Work(c, 25);
        var eth = (byte*)skb->data;
        skb->dev = (ulong)Device;
        skb->mac_header = (ushort)(skb->data - skb->head);
        skb->data += NetConst.EthHlen;
        skb->len -= NetConst.EthHlen;
        var dst = new ReadOnlySpan<byte>(eth, 6);
        if ((eth[0] & 1) != 0)
            skb->pkt_type = dst.SequenceEqual(stackalloc byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }) ? NetConst.PacketBroadcast : NetConst.PacketMulticast;
        else if (!dst.SequenceEqual(new ReadOnlySpan<byte>(Device->dev_addr, 6)))
            skb->pkt_type = NetConst.PacketOtherHost;
        else
            skb->pkt_type = NetConst.PacketHost;
        var proto = *(ushort*)(eth + 12);
        // Below ETH_P_802_3_MIN the field is a length: 802.3 frames (ETH_P_802_3 / ETH_P_802_2).
        return BinaryPrimitives.ReverseEndianness(proto) >= 0x0600 ? proto : NetConst.Htons(0x0004);
    }

    private int netif_receive_skb(NetCpu c, SkBuff* skb)
    {
        Work(c, 15);
        var r = F.Ret(F.netif_receive_skb, 0x2c);
        Enter(c, r);
        var ret = F.netif_receive_skb_internal.Fentry is { } h ? (int)h.Invoke(F.netif_receive_skb_internal, r, (ulong)skb, 0, 0, 0, 0, 0) : netif_receive_skb_internal(c, skb);
        Leave(c, r);
        return ret;
    }

    private int netif_receive_skb_internal(NetCpu c, SkBuff* skb)
    {
        // net_timestamp_check, skb_defer_rx_timestamp, RPS off: straight on.
        Work(c, 20);
        var r = F.Ret(F.netif_receive_skb_internal, 0x8d);
        Enter(c, r);
        c.Cpu.RcuReadLock();
        var ret = F.__netif_receive_skb.Fentry is { } h ? (int)h.Invoke(F.__netif_receive_skb, r, (ulong)skb, 0, 0, 0, 0, 0) : __netif_receive_skb(c, skb);
        c.Cpu.RcuReadUnlock();
        Leave(c, r);
        return ret;
    }

    private int __netif_receive_skb(NetCpu c, SkBuff* skb)
    {
        Work(c, 10);
        var r = F.Ret(F.__netif_receive_skb, 0x32);
        Enter(c, r);
        var ret = F.__netif_receive_skb_one_core.Fentry is { } h ? (int)h.Invoke(F.__netif_receive_skb_one_core, r, (ulong)skb, 0, 0, 0, 0, 0) : __netif_receive_skb_one_core(c, skb, false);
        Leave(c, r);
        return ret;
    }

    private int __netif_receive_skb_one_core(NetCpu c, SkBuff* skb, bool pfmemalloc)
    {
        Work(c, 10);
        var origDev = skb->dev;
        PacketTypeStruct* ptPrev = null;
        var local = skb;
        var r = F.Ret(F.__netif_receive_skb_one_core, 0x2d);
        Enter(c, r);
        var ret = F.__netif_receive_skb_core.Fentry is { } h
            ? (int)h.Invoke(F.__netif_receive_skb_core, r, (ulong)&local, pfmemalloc ? 1UL : 0, (ulong)&ptPrev, 0, 0, 0)
            : __netif_receive_skb_core(c, &local, pfmemalloc, &ptPrev);
        Leave(c, r);
        if (ptPrev is not null)
        {
            var entry = _ptypes[(int)ptPrev->af_packet_priv]!;
            c.SiteReturn = F.Ret(F.__netif_receive_skb_one_core, 0x4e + 3);
            ret = PtypeSite.Call(entry.Func, new PtypeArgs((nint)local, (nint)local->dev, (nint)ptPrev, (nint)origDev) { Cpu = c });
        }

        return ret;
    }

    private int __netif_receive_skb_core(NetCpu c, SkBuff** pskb, bool pfmemalloc, PacketTypeStruct** pptPrev)
    {
        Work(c, 120);
        var skb = *pskb;
        NetifReceiveSkb?.Fire([(ulong)skb]);
        var origDev = skb->dev;
        skb->network_header = (ushort)(skb->data - skb->head);
        if (skb->transport_header == 0xFFFF)
            skb->transport_header = skb->network_header;
        skb->mac_len = (ushort)(skb->network_header - skb->mac_header);
        PacketTypeStruct* ptPrev = null;
        var ret = NetConst.NetRxDrop;
        skb->skb_iif = ((NetDeviceStruct*)skb->dev)->ifindex;
        c.C[(int)NetCounter.SoftnetProcessed]++;

        if (!pfmemalloc)
        {
            foreach (var ptype in Volatile.Read(ref _ptypeAll))
            {
                if (ptPrev is not null)
                    ret = CallDeliverSkb(c, skb, ptPrev, origDev, 0x2f1);
                ptPrev = ptype.Native;
            }
        }

        // deliver_ptype_list_skb over ptype_base[ntohs(type) & PTYPE_HASH_MASK].
        var type = skb->protocol;
        foreach (var ptype in Volatile.Read(ref _ptypeBase)[BinaryPrimitives.ReverseEndianness(type) & NetConst.PtypeHashMask])
        {
            if (ptype.Native->type != type)
                continue;
            if (ptPrev is not null)
                ret = CallDeliverSkb(c, skb, ptPrev, origDev, 0x6b8);
            ptPrev = ptype.Native;
        }

        if (ptPrev is not null)
        {
            *pptPrev = ptPrev;
        }
        else
        {
            // No rx_handler asked for exact delivery, so this is rx_dropped (rx_nohandler counts the exact case).
            c.C[(int)NetCounter.RxDropped]++;
            KfreeSkb(c, skb, DropReason.UNHANDLED_PROTO, F.__netif_receive_skb_core, 0x7a2);
            ret = NetConst.NetRxDrop;
        }

        *pskb = skb;
        return ret;
    }

    private int CallDeliverSkb(NetCpu c, SkBuff* skb, PacketTypeStruct* ptPrev, ulong origDev, ulong offset)
    {
        var r = F.Ret(F.__netif_receive_skb_core, offset);
        Enter(c, r);
        var ret = F.deliver_skb.Fentry is { } h
            ? (int)h.Invoke(F.deliver_skb, r, (ulong)skb, (ulong)ptPrev, origDev, 0, 0, 0)
            : deliver_skb(c, skb, ptPrev, origDev);
        Leave(c, r);
        return ret;
    }

    private int deliver_skb(NetCpu c, SkBuff* skb, PacketTypeStruct* ptPrev, ulong origDev)
    {
        Work(c, 15);
        skb->users++;
        var entry = _ptypes[(int)ptPrev->af_packet_priv]!;
        c.SiteReturn = F.Ret(F.deliver_skb, 0x2b + 3);
        return DeliverSkbSite.Call(entry.Func, new PtypeArgs((nint)skb, (nint)skb->dev, (nint)ptPrev, (nint)origDev) { Cpu = c });
    }

    internal int PacketRcvEntry(NetCpu c, PtypeArgs a)
    {
        var f = F.packet_rcv;
        return f.Fentry is { } h ? (int)h.Invoke(f, c.SiteReturn, (ulong)a.Skb, (ulong)a.Dev, (ulong)a.Pt, (ulong)a.OrigDev, 0, 0) : packet_rcv(c, (SkBuff*)a.Skb);
    }

    // AF_PACKET: run the socket filter (none), count tp_packets, queue a clone; the reference handed over is consumed.
    private int packet_rcv(NetCpu c, SkBuff* skb)
    {
        Work(c, 150);
        c.C[(int)NetCounter.PacketTapPackets]++;
        ConsumeSkb(c, skb, F.packet_rcv, 0x1c3);
        return 0;
    }

    private void KfreeSkb(NetCpu c, SkBuff* skb, DropReason reason, KernelFunction caller, ulong offset)
    {
        var r = F.Ret(caller, offset);
        Enter(c, r);
        if (F.kfree_skb_reason.Fentry is { } h)
            h.Invoke(F.kfree_skb_reason, r, (ulong)skb, (ulong)reason, 0, 0, 0, 0);
        else
            kfree_skb_reason(c, skb, reason);
        Leave(c, r);
    }

    private void ConsumeSkb(NetCpu c, SkBuff* skb, KernelFunction caller, ulong offset)
    {
        var r = F.Ret(caller, offset);
        Enter(c, r);
        if (F.consume_skb.Fentry is { } h)
            h.Invoke(F.consume_skb, r, (ulong)skb, 0, 0, 0, 0, 0);
        else
            consume_skb(c, skb);
        Leave(c, r);
    }

    private void kfree_skb_reason(NetCpu c, SkBuff* skb, DropReason reason)
    {
        Work(c, 40);
        if (--skb->users > 0)
            return;
        c.Drops[(int)reason]++;
        c.C[(int)NetCounter.DroppedIpv4 + (int)FamilyOf(skb->protocol)]++;
        SkbFree(skb);
    }

    private void consume_skb(NetCpu c, SkBuff* skb)
    {
        Work(c, 35);
        if (--skb->users > 0)
            return;
        c.C[(int)NetCounter.DeliveredIpv4 + (int)FamilyOf(skb->protocol)]++;
        SkbFree(skb);
    }

    // napi_skb_cache_put: back to the cache of the CPU that allocated it.
    private void SkbFree(SkBuff* skb)
    {
        var owner = _cpus[skb->cache_cpu];
        owner.Free[owner.FreeCount++] = skb->cache_index;
    }

    private static NetFamily FamilyOf(ushort protocol) => protocol switch
    {
        PIp => NetFamily.Ipv4,
        PIpv6 => NetFamily.Ipv6,
        PArp => NetFamily.Arp,
        _ => NetFamily.Other,
    };

    private static NetFamily FamilyOfFrame(ulong data, int length) =>
        length < NetConst.EthHlen ? NetFamily.Other : FamilyOf(*(ushort*)(data + 12));
}
