using Kernel.Sim.Core;
using Kernel.Sim.Cpu;
using Kernel.Sim.Net;
using Kernel.Sim.Tests.Support;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Tests.Net;

public sealed class NetStackTests
{
    public static IEnumerable<TestCaseData> PathOrders() =>
        DataLines("path-order.txt").Select(line =>
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var parts = line[(colon + 1)..].Split('|', StringSplitOptions.TrimEntries);
            return new TestCaseData(parts[0], parts[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)).SetName("Order_" + line[..colon]);
        });

    public static IEnumerable<TestCaseData> Malformed() =>
        DataLines("malformed.txt").Select(line =>
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var parts = line[(colon + 1)..].Split('|', StringSplitOptions.TrimEntries);
            return new TestCaseData(parts[0], parts[1], parts[2], parts[3]).SetName("Malformed_" + line[..colon]);
        });

    [TestCaseSource(nameof(PathOrders))]
    public void EachKindOfFrameReachesExactlyLinuxsHandlersInOrder(string mix, string[] expected)
    {
        using var bed = new NetTestBed();
        var seen = Record(bed);
        bed.Receive(NetTestBed.Frame(mix));
        Assert.That(seen, Is.EqualTo(expected));
    }

    [TestCaseSource(nameof(Malformed))]
    public void MalformedFramesAreDroppedWithLinuxsReasonAndCounters(string mix, string mutation, string reason, string counters)
    {
        using var bed = new NetTestBed();
        bed.Receive(NetTestBed.Mutate(NetTestBed.Frame(mix), mutation));
        Assert.That(bed.Stack.Counters.Drops(Enum.Parse<DropReason>(reason)), Is.EqualTo(1), reason);
        Assert.That(bed.Stack.Counters.DropReasons().Sum(d => d.Count), Is.EqualTo(1), "exactly one drop");
        foreach (var item in counters.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            Assert.That(bed[Enum.Parse<NetCounter>(item[..eq])], Is.EqualTo(long.Parse(item[(eq + 1)..], System.Globalization.CultureInfo.InvariantCulture)), item);
        }

        Assert.That(bed.Stack.FreeSkbs(0), Is.EqualTo(bed.Stack.Options.SkbCacheSize), "the skb went back to the cache");
    }

    [Test]
    public void TapsSeeEveryFrameThroughDeliverSkbAndTakeUnhandledOnes()
    {
        using var bed = new NetTestBed(tap: true);
        var seen = Record(bed);
        bed.Receive(NetTestBed.Frame("ipv4=1,udp=1"));
        var i = Array.IndexOf(seen.ToArray(), "__netif_receive_skb_core");
        Assert.That(seen.Skip(i + 1).Take(3), Is.EqualTo(new[] { "deliver_skb", "packet_rcv", "consume_skb" }), "the tap runs before ip_rcv");
        Assert.That(seen, Does.Contain("ip_rcv"));

        using var mixed = new NetTestBed(tap: true);
        using var traffic = TrafficPool.Generate(TrafficMix.Parse("ipv4=50,ipv6=20,arp=10,other=20"), 3, 500, 1);
        mixed.Kernel.On(0, () => PacketPathRunner.ReplayQueue(mixed.Stack, traffic, 0, 500));
        Assert.That(mixed[NetCounter.PacketTapPackets], Is.EqualTo(500));
        Assert.That(mixed[NetCounter.RxDropped], Is.Zero, "with a tap, frames of no protocol end at packet_rcv, not rx_dropped");
        Assert.That(mixed.Stack.Counters.Delivered(NetFamily.Other), Is.GreaterThan(0));
        Assert.That(mixed.Stack.CallSites.Single(s => s.Name.StartsWith("deliver_skb", StringComparison.Ordinal)).Misses,
            Is.EqualTo(500 - mixed.Stack.Counters.Delivered(NetFamily.Other)), "deliver_skb is called for every frame that also has a protocol handler");
    }

    [Test]
    public void ResultsAreIdenticalAcrossStrategiesOnlyCostsDiffer()
    {
        using var traffic = TrafficPool.Generate(TrafficMix.Parse("ipv4=70,ipv6=20,arp=5,other=5,bad=3,malformed=3,closed=5"), 11, 3000, 1);
        var results = PacketPathRunner.Run(new PacketPathRunOptions { Traffic = traffic, Packets = 3000, WarmupPackets = 500, Profile = CpuProfiles.Skylake });
        Assert.That(results, Has.Count.EqualTo(DispatchStrategies.All.Count));
        var first = results[0];
        Assert.That(first.DroppedTotal, Is.GreaterThan(0));
        foreach (var r in results)
        {
            Assert.That(r.Counters, Is.EqualTo(first.Counters), r.Strategy.Name());
            Assert.That(r.DropReasons, Is.EqualTo(first.DropReasons), r.Strategy.Name());
            Assert.That(r.Delivered.Values.Sum() + r.DroppedTotal, Is.EqualTo(3000), r.Strategy.Name());
        }

        var byName = results.ToDictionary(r => r.Strategy);
        Assert.That(byName[DispatchStrategy.Retpoline].CyclesPerPacket, Is.GreaterThan(byName[DispatchStrategy.Indirect].CyclesPerPacket));
        Assert.That(byName[DispatchStrategy.Guards].CyclesPerPacket, Is.LessThan(byName[DispatchStrategy.Retpoline].CyclesPerPacket));
        Assert.That(byName[DispatchStrategy.Guards].GuardHitRate, Is.GreaterThan(0.8));
        Assert.That(double.IsNaN(byName[DispatchStrategy.Retpoline].GuardHitRate), Is.True);
    }

    [Test]
    public void GuardsUseLinuxsCandidatesInLinuxsOrder()
    {
        using var bed = new NetTestBed(strategy: DispatchStrategy.Guards);
        var sites = bed.Stack.CallSites.ToDictionary(s => s.Name[..s.Name.IndexOf('+', StringComparison.Ordinal)]);
        Assert.That(sites["__netif_receive_skb_one_core"].Candidates, Is.EqualTo(new[] { "ipv6_rcv", "ip_rcv" }));
        Assert.That(sites["ip_rcv_finish"].Candidates, Is.EqualTo(new[] { "ip6_input", "ip_local_deliver" }));
        Assert.That(sites["ip_protocol_deliver_rcu"].Candidates, Is.EqualTo(new[] { "tcp_v4_rcv", "udp_rcv" }));
        Assert.That(sites["ip6_protocol_deliver_rcu"].Candidates, Is.EqualTo(new[] { "tcp_v6_rcv", "udpv6_rcv" }));
        Assert.That(sites["deliver_skb"].Candidates, Is.Empty, "deliver_skb is never devirtualised");
        Assert.That(sites["__napi_poll"].Candidates, Is.Empty, "n->poll has no INDIRECT_CALL wrapper");
        bed.Receive(NetTestBed.Frame("ipv4=1,icmp=1"));
        Assert.That(sites["ip_protocol_deliver_rcu"].Misses, Is.EqualTo(1), "icmp_rcv is not a candidate");
        Assert.That(sites["__netif_receive_skb_one_core"].Hits, Is.EqualTo(1));
    }

    [Test]
    public void PerCpuCountersAddUpWithTwoCpus()
    {
        using var traffic = TrafficPool.Generate(TrafficMix.Parse("ipv4=80,ipv6=20,flows=32"), 5, 4000, 2);
        using var bed = new NetTestBed(cpus: 2);
        PacketPathRunner.Replay(bed.Stack, traffic, 4000, 2);
        var c = bed.Stack.Counters;
        foreach (var counter in Enum.GetValues<NetCounter>())
            Assert.That(c.OnCpu(0, counter) + c.OnCpu(1, counter), Is.EqualTo(c[counter]), counter.ToString());
        Assert.That(c.OnCpu(0, NetCounter.RxPackets), Is.GreaterThan(0));
        Assert.That(c.OnCpu(1, NetCounter.RxPackets), Is.GreaterThan(0), "RSS spreads the flows over both queues");
        Assert.That(c[NetCounter.RxPackets], Is.EqualTo(4000));
        Assert.That(Enum.GetValues<NetFamily>().Sum(f => c.Delivered(f) + c.Dropped(f)), Is.EqualTo(4000));
        Assert.That(c[NetCounter.UdpInDatagrams] + c[NetCounter.Udp6InDatagrams] + c[NetCounter.TcpInSegs] + c[NetCounter.IcmpInMsgs] + c[NetCounter.Icmp6InMsgs], Is.EqualTo(4000));
    }

    [Test]
    public void XdpActionsAreCountedAndOnlyPassBuildsAnSkb()
    {
        foreach (var (action, counter) in new[] { (XdpAction.XDP_DROP, NetCounter.XdpDrop), (XdpAction.XDP_TX, NetCounter.XdpTx), (XdpAction.XDP_ABORTED, NetCounter.XdpAborted), (XdpAction.XDP_PASS, NetCounter.XdpPass) })
        {
            using var bed = new NetTestBed();
            bed.Stack.AttachXdp(new FixedXdpProgram(action));
            var seen = Record(bed);
            bed.Receive(NetTestBed.Frame("ipv4=1,udp=1"));
            Assert.That(bed[counter], Is.EqualTo(1), action.ToString());
            Assert.That(seen.Contains("napi_build_skb"), Is.EqualTo(action == XdpAction.XDP_PASS), action.ToString());
            Assert.That(seen, Does.Contain("bpf_prog_run_xdp"));
        }
    }

    [Test]
    public void TheTracepointPrintsAsLinux()
    {
        using var bed = new NetTestBed();
        bed.Stack.NetifReceiveSkb!.Enabled = true;
        bed.Receive(NetTestBed.Frame("ipv4=1,udp=1"));
        var trace = bed.Kernel.Tracing.Trace.Output.ReadTrace();
        Assert.That(trace, Does.Match(@"<idle>-0 +\[000\] \.\.s\.\. +\d+\.\d{6}: netif_receive_skb: dev=eth0 skbaddr=0x[0-9a-f]+ len=114\n"));
        Assert.That(bed.Stack.NetifReceiveSkb.FormatFile(), Does.Contain("print fmt: \"dev=%s skbaddr=%p len=%u\", __get_str(name), REC->skbaddr, REC->len"));
    }

    [Test]
    public void KprobeEventsFetchTheSkbFieldsAtLinuxOffsets()
    {
        using var bed = new NetTestBed();
        var e = bed.Kernel.Tracing.ProbeEvents.Add("p:rcv ip_rcv len=+112(%di):u32 proto=+164(%di):x16");
        bed.Kernel.Tracing.ProbeEvents.SetEnabled(e, true);
        bed.Receive(NetTestBed.Frame("ipv4=1,udp=1"));
        Assert.That(bed.Kernel.Tracing.Trace.Output.ReadTrace(), Does.Contain("rcv: (ip_rcv+0x0/0x1a0) len=114 proto=0x8"));
    }

    [Test]
    public void ProcNetSnmpHasLinuxsLayout()
    {
        using var bed = new NetTestBed();
        bed.Receive(NetTestBed.Frame("ipv4=1,udp=1"));
        var lines = ProcNetSnmp.Snmp(bed.Stack.Counters).Split('\n');
        Assert.That(lines[0], Is.EqualTo("Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits"));
        Assert.That(lines[1], Is.EqualTo("Ip: 2 64 1 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0"));
        Assert.That(lines, Does.Contain("Udp: 1 0 0 0 0 0 0 0 0"));
        Assert.That(ProcNetSnmp.Snmp6(bed.Stack.Counters), Does.StartWith("Ip6InReceives                   \t0\n"));
        Assert.That(ProcNetSnmp.Netstat(bed.Stack.Counters), Does.StartWith("IpExt: InNoRoutes InTruncatedPkts"));
    }

    [Test]
    public void ThePathAllocatesNothingPerPacket()
    {
        using var traffic = TrafficPool.Generate(TrafficMix.Default, 1, 1000, 1);
        foreach (var strategy in DispatchStrategies.All)
        {
            using var model = new CostModel(CpuProfiles.Skylake, 1);
            using var bed = new NetTestBed(strategy: strategy, model: model);
            long allocated = -1;
            bed.Kernel.On(0, () =>
            {
                PacketPathRunner.ReplayQueue(bed.Stack, traffic, 0, 20_000);
                var before = GC.GetAllocatedBytesForCurrentThread();
                PacketPathRunner.ReplayQueue(bed.Stack, traffic, 0, 5_000);
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
            // Adaptive sites decide once per window (~4096 calls) and allocate only when they repatch, which a steady
            // mix after warm-up never asks for.
            Assert.That(allocated, Is.Zero, strategy.Name());
        }
    }

    [Test]
    public void EveryPathFunctionIsTraceable()
    {
        using var bed = new NetTestBed();
        var available = bed.Kernel.Core.Functions.AvailableFilterFunctions().Split('\n');
        Assert.That(bed.Stack.FunctionNames, Has.Count.GreaterThan(40));
        Assert.That(available, Is.SupersetOf(bed.Stack.FunctionNames));
        Assert.That(bed.Kernel.Core.Symbols.Lookup("__netif_receive_skb_core")!.Size, Is.EqualTo(0xe80));
    }

    private static List<string> Record(NetTestBed bed)
    {
        var seen = new List<string>();
        var ops = new FtraceOps((ulong ip, ulong parent, FtraceOps o, ref PtRegs r) => seen.Add(bed.Kernel.Core.Functions.FindByAddress(ip)!.Name));
        Assert.That(bed.Kernel.Tracing.Ftrace.Register(ops), Is.Zero);
        return seen;
    }

    private static IEnumerable<string> DataLines(string file) =>
        File.ReadAllLines(TestPaths.Data("Net", "Data", file)).Where(l => l.Length > 0 && !l.StartsWith('#'));
}
