using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Kernel.Sim.Bench.Report;
using Kernel.Sim.Cpu;
using Kernel.Sim.Core;
using Kernel.Sim.Hosting;
using Kernel.Sim.Net;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>
/// Packets through the whole receive path (DMA into the ring, NAPI poll, skb from the per-CPU cache,
/// __netif_receive_skb_core, L3, L4 to the socket reader, free) on one simulated CPU, per dispatch strategy and
/// traffic mix, without probes. Results are per packet; 1e9 / Mean is packets per second on one core
/// (goal ≥ 5 M/s), and Allocated must be 0 B. Min is shown: on a shared machine the mean measures the load.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[Config(typeof(ModelledColumns))]
[ModelledBy(typeof(PacketPathCounterpart))]
public class PacketPathBenchmarks
{
    /// <summary>Packets per invocation (64 NAPI polls).</summary>
    public const int Packets = 4096;

    private PacketPathBench _bench = null!;

    [ParamsSource(nameof(Strategies))]
    public string Strategy { get; set; } = "retpoline";

    /// <summary><c>udp-flood</c>: 64-byte IPv4 UDP to open ports (Paolo Abeni's case); <c>default</c>: the run verb's mix (IMIX sizes).</summary>
    [Params("udp-flood", "default")]
    public string Mix { get; set; } = "udp-flood";

    public static IEnumerable<string> Strategies => DispatchStrategies.All.Select(s => s.Name());

    [GlobalSetup]
    public void Setup() => _bench = new PacketPathBench(DispatchStrategies.Parse(Strategy)!.Value, Mix, "none");

    [GlobalCleanup]
    public void Cleanup() => _bench.Dispose();

    [Benchmark(OperationsPerInvoke = Packets)]
    public void Receive() => _bench.Run();

    /// <summary>Modelled cycles per packet under the machine of record's profile (zen5) and an eIBRS-class Intel (icelake), as the Dispatch suite.</summary>
    private sealed class ModelledColumns : ManualConfig
    {
        public ModelledColumns() => AddColumn(new ModelledCyclesColumn(CpuProfiles.Zen5), new ModelledCyclesColumn(CpuProfiles.IceLake));
    }
}

/// <summary>
/// The model's cycles per packet for a <see cref="PacketPathBenchmarks"/> case: the same path, strategy and traffic
/// with the cost model on (<see cref="PacketPathModel"/>: warmed, then <see cref="PacketPathBenchmarks.Packets"/> packets).
/// </summary>
public sealed class PacketPathCounterpart : IModelledCounterpart
{
    public double? Cycles(CpuProfile profile, BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        if (benchmarkCase.Parameters["Strategy"] is not string name || DispatchStrategies.Parse(name) is not { } strategy
            || benchmarkCase.Parameters["Mix"] is not string mix)
            return null;
        using var traffic = PacketPathBench.Traffic(mix);
        return PacketPathModel.Run(profile, strategy, traffic, PacketPathBenchmarks.Packets).CyclesPerPacket;
    }
}

/// <summary>
/// The same path with probes attached against none, under retpoline, UDP flood: <c>bpf</c> = the run verb's default
/// probes (bpf/probes/path_probes.o: an XDP program counting per family and a kprobe on ip_rcv counting per
/// protocol, verified and JIT-compiled; goal ≥ 3 M packets/s), <c>csharp</c> = the same two as C# code.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
public class PacketPathProbesBenchmarks
{
    private PacketPathBench _bench = null!;

    [Params("none", "bpf", "csharp")]
    public string Probes { get; set; } = "none";

    [GlobalSetup]
    public void Setup() => _bench = new PacketPathBench(DispatchStrategy.Retpoline, "udp-flood", Probes);

    [GlobalCleanup]
    public void Cleanup() => _bench.Dispose();

    [Benchmark(OperationsPerInvoke = PacketPathBenchmarks.Packets)]
    public void Receive() => _bench.Run();
}

/// <summary>A kernel, its path, the traffic and the replay loop shared by the packet-path benchmarks.</summary>
internal sealed class PacketPathBench : IDisposable
{
    private readonly SimulatedKernel _kernel;
    private readonly TrafficPool _traffic;
    private readonly SimulatedCpu _cpu;
    private readonly Action _loop;
    private readonly long[] _perProtocol = new long[256];

    public PacketPathBench(DispatchStrategy strategy, string mix, string probes)
    {
        _kernel = new SimulatedKernel(new KernelSimOptions { Cpus = 1 });
        var stack = new NetStack(_kernel.Core, new NetStackOptions { Strategy = strategy }, _kernel.Tracing);
        _traffic = Traffic(mix);
        _cpu = _kernel.Core.Cpus[0];
        if (probes == "csharp")
        {
            stack.AttachXdp(new FixedXdpProgram(XdpAction.XDP_PASS));
            _kernel.Tracing.Kprobes.Register(new Kprobe { SymbolName = "ip_rcv", PreHandler = CountProtocol });
        }
        else if (probes == "bpf")
        {
            using var resource = typeof(PacketPathBench).Assembly.GetManifestResourceStream("path_probes.o")!;
            using var copy = new MemoryStream();
            resource.CopyTo(copy);
            BpfPathProbes.Attach(_kernel, stack, [("path_probes.o", copy.ToArray())]);
        }

        _loop = () => PacketPathRunner.ReplayQueue(stack, _traffic, 0, PacketPathBenchmarks.Packets);
    }

    public void Run() => _cpu.Run(_loop);

    /// <summary>The frames of a mix: <c>udp-flood</c> (64-byte IPv4 UDP over 64 flows) or <c>default</c>.</summary>
    public static TrafficPool Traffic(string mix) =>
        TrafficPool.Generate(mix == "udp-flood" ? TrafficMix.Parse("ipv4=1,udp=1,size=64,flows=64") : TrafficMix.Default, 1, 8192, 1);

    // The kprobe reads iph->protocol through skb->data (+208), as a BPF kprobe would with bpf_probe_read_kernel.
    private unsafe int CountProtocol(Kprobe probe, ref PtRegs regs)
    {
        var skb = (SkBuff*)regs.di;
        _perProtocol[((byte*)skb->data)[9]]++;
        return 0;
    }

    public void Dispose()
    {
        _traffic.Dispose();
        _kernel.Dispose();
    }
}
