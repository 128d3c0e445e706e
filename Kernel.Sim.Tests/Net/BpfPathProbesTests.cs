using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Net;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Net;

public sealed unsafe class BpfPathProbesTests
{
    private const int Packets = 3000;

    [Test]
    public void PerCpuCountersOfProgramsRunOnTwoCpusAddUp()
    {
        using var traffic = TrafficPool.Generate(TrafficMix.Parse("ipv4=80,ipv6=20,flows=32"), 5, Packets, 2);
        using var bed = new NetTestBed(cpus: 2);
        var probes = BpfPathProbes.Attach(bed.Kernel, bed.Stack, [("percpu_probes.o", File.ReadAllBytes(TestPaths.Data("Net", "Data", "percpu_probes.o")))]);
        Assert.That(probes.Attached, Is.EqualTo(new[] { "xdp: xdp_percpu", "kprobe/ip_rcv: ip_rcv_percpu" }));
        PacketPathRunner.Replay(bed.Stack, traffic, Packets, 2);

        var hits = probes.Maps.Single(m => m.Name == "percpu_hits").Map;
        var byCpu = probes.Maps.Single(m => m.Name == "xdp_by_cpu").Map;
        Assert.That(hits.Cpus, Is.EqualTo(2), "one slot per simulated CPU");
        var c = bed.Stack.Counters;
        for (var cpu = 0; cpu < 2; cpu++)
        {
            var frames = Value(hits, 0, cpu);
            Assert.That(frames, Is.EqualTo(c.OnCpu(cpu, NetCounter.RxPackets)), $"XDP runs on CPU {cpu}");
            Assert.That(frames, Is.GreaterThan(0), $"RSS gives CPU {cpu} frames");
            Assert.That(Value(byCpu, (uint)cpu, 0), Is.EqualTo(frames), $"bpf_get_smp_processor_id() on CPU {cpu}");
        }

        Assert.That(Value(hits, 0, 0) + Value(hits, 0, 1), Is.EqualTo(Packets), "no count lost: each CPU has its own slot");
        Assert.That(Value(hits, 1, 0) + Value(hits, 1, 1), Is.EqualTo(c.Delivered(NetFamily.Ipv4) + c.Dropped(NetFamily.Ipv4)), "the kprobe on ip_rcv sees every IPv4 frame");
        Assert.That(Value(hits, 1, 0), Is.GreaterThan(0));
        Assert.That(Value(hits, 1, 1), Is.GreaterThan(0));
    }

    [Test]
    public void TracepointRawTracepointFentryAndFexitProgramsAttachBySectionAndCountWhatThePathDid()
    {
        using var traffic = TrafficPool.Generate(TrafficMix.Parse("ipv4=80,ipv6=15,arp=5,flows=32"), 9, Packets, 1);
        using var bed = new NetTestBed();
        var image = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "bpf", "probes", "rx_events.o"));
        var probes = BpfPathProbes.Attach(bed.Kernel, bed.Stack, [("rx_events.o", image)]);
        Assert.That(probes.Attached, Is.EqualTo(new[]
        {
            "tracepoint/net/netif_receive_skb: netif_rx_record", "raw_tracepoint/netif_receive_skb: netif_rx_raw",
            "fentry/ip_rcv: ip_rcv_entry", "fexit/udp_rcv: udp_rcv_exit",
        }));
        PacketPathRunner.Replay(bed.Stack, traffic, Packets, 1);

        var events = probes.Maps.Single(m => m.Name == "rx_events").Map;
        var c = bed.Stack.Counters;
        var received = Value(events, 0, 0);
        Assert.Multiple(() =>
        {
            Assert.That(received, Is.EqualTo((ulong)c[NetCounter.RxPackets]), "one record per frame reaching __netif_receive_skb_core");
            Assert.That(Value(events, 1, 0), Is.EqualTo((ulong)(c[NetCounter.RxBytes] - 14 * c[NetCounter.RxPackets])), "the record's len: the frame after eth_type_trans pulled ETH_HLEN");
            Assert.That(Value(events, 2, 0), Is.EqualTo(received), "the __data_loc name read through bpf_probe_read_kernel is eth0");
            Assert.That(Value(events, 3, 0), Is.EqualTo(received), "the raw tracepoint's args[0] is the skb");
            Assert.That(Value(events, 4, 0), Is.EqualTo((ulong)(c.Delivered(NetFamily.Ipv4) + c.Dropped(NetFamily.Ipv4))), "fentry on ip_rcv sees every IPv4 frame");
            Assert.That(Value(events, 5, 0), Is.GreaterThan(0UL).And.LessThanOrEqualTo(Value(events, 4, 0)), "fexit on udp_rcv");
        });
    }

    [Test]
    public void ASectionNamingNoTracepointIsRefusedWithTheProgramAndSection()
    {
        using var bed = new NetTestBed();
        var image = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "bpf", "probes", "rx_events.o"));
        var patched = System.Text.Encoding.ASCII.GetBytes("tracepoint/net/netif_receive_skb");
        var found = 0;
        for (var index = image.AsSpan().IndexOf(patched); index >= 0; index = image.AsSpan().IndexOf(patched), found++)
            "tracepoint/net/netif_receive_sky"u8.CopyTo(image.AsSpan(index));
        Assert.That(found, Is.GreaterThan(0), "the section name is in the object's string tables");
        var e = Assert.Throws<Kernel.Sim.Bpf.Elf.BpfObjectException>(() => BpfPathProbes.Attach(bed.Kernel, bed.Stack, [("rx_events.o", image)]));
        Assert.That(e!.Message, Does.Contain("rx_events.o").And.Contain("netif_rx_record"));
    }

    private static ulong Value(BpfMap map, uint key, int cpu)
    {
        var value = map.Lookup((byte*)&key, cpu);
        Assert.That(value != null, $"{map.Definition.Name}[{key}] on CPU {cpu}");
        return *(ulong*)value;
    }
}
