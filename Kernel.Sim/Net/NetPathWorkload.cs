using Kernel.Sim.Core;
using Kernel.Sim.Core.Workloads;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Net;

/// <summary>
/// The <c>net</c> workload: the real receive path (<see cref="NetStack"/>) fed with deterministic frames. Each round
/// DMAs one frame of a seeded <see cref="TrafficPool"/> (IPv4/UDP to listening ports, 64–600-byte frames) into the running
/// CPU's rx ring and runs that CPU's NET_RX softirq, so a round traces
/// <c>net_rx_action → __napi_poll → simnic_poll → … → netif_receive_skb → __netif_receive_skb_core → ip_rcv → … → udp_rcv</c>.
/// Registered by the composition root (<see cref="Hosting.SimulatedKernel"/>), since Core knows nothing of Net.
/// </summary>
public sealed class NetPathWorkload : IKernelWorkload, IDisposable
{
    /// <summary>The traffic each round draws from, in order (cyclically).</summary>
    public static TrafficMix Mix { get; } = TrafficMix.Parse("ipv4=100,udp=100,size=64-600");

    /// <summary>Distinct frames in the pool.</summary>
    public const int Frames = 8;

    private readonly KernelTracing _tracing;
    private readonly ulong _seed;
    private NetStack? _stack;
    private TrafficPool? _traffic;
    private long _next = -1;

    /// <param name="tracing">The kernel's tracing (the path defines <c>net:netif_receive_skb</c> there).</param>
    /// <param name="seed">Seed of the frame generator.</param>
    public NetPathWorkload(KernelTracing tracing, ulong seed)
    {
        _tracing = tracing ?? throw new ArgumentNullException(nameof(tracing));
        _seed = seed;
    }

    public string Name => "net";

    public string Description => "the packet receive path (Kernel.Sim/Net): IPv4/UDP frames through NAPI poll, netif_receive_skb, ip_rcv, udp_rcv (softirq context)";

    /// <summary>The installed path (null before <see cref="Install"/>).</summary>
    public NetStack? Stack => _stack;

    public void Install(KernelCore core)
    {
        ArgumentNullException.ThrowIfNull(core);
        _stack = new NetStack(core, new NetStackOptions(), _tracing);
        _traffic = TrafficPool.Generate(Mix, _seed, Frames, 1);
    }

    /// <summary>Frees the frame pool's native memory (the kernel that owns the workload calls it).</summary>
    public void Dispose()
    {
        _traffic?.Dispose();
        _traffic = null;
    }

    /// <summary>Runs <paramref name="iterations"/> frames through the path on <paramref name="cpu"/> (its own rx queue).</summary>
    public void Run(SimulatedCpu cpu, int iterations)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        var stack = _stack ?? throw new InvalidOperationException("workload not installed");
        var traffic = _traffic ?? throw new ObjectDisposedException(nameof(NetPathWorkload));
        for (var i = 0; i < iterations; i++)
        {
            cpu.Advance(2000);
            var index = (int)(Interlocked.Increment(ref _next) % traffic.Count);
            stack.DmaTo(cpu.Id, traffic.Frame(index), traffic.Status(index), traffic.Hash(index));
            stack.NetRxAction();
        }
    }
}
