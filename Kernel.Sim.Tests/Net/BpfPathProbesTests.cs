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

    private static ulong Value(BpfMap map, uint key, int cpu)
    {
        var value = map.Lookup((byte*)&key, cpu);
        Assert.That(value != null, $"{map.Definition.Name}[{key}] on CPU {cpu}");
        return *(ulong*)value;
    }
}
