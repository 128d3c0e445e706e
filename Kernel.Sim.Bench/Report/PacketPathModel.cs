using Kernel.Sim.Cpu;
using Kernel.Sim.Hosting;
using Kernel.Sim.Net;

namespace Kernel.Sim.Bench.Report;

/// <summary>Modelled cycles per packet through the simulated receive path (Kernel.Sim/Net) under one strategy.</summary>
/// <param name="Strategy">The dispatch strategy of every call site on the path.</param>
/// <param name="CyclesPerPacket">Modelled cycles per packet (work and dispatch).</param>
/// <param name="DispatchPerPacket">The share of those cycles spent reaching handlers (calls, mispredicts, guards).</param>
/// <param name="Delivered">Frames delivered in the modelled pass.</param>
public sealed record PacketPathCost(DispatchStrategy Strategy, double CyclesPerPacket, double DispatchPerPacket, long Delivered);

/// <summary>Runs the real receive path with the cost model on: a fresh kernel per strategy, warmed, then modelled.</summary>
public static class PacketPathModel
{
    /// <summary>
    /// Warm-up frames: enough for an adaptive site seeing one call per packet to finish its first windows (it samples
    /// about 1 call in 16 and decides after 256 samples, so about 4,096 calls per window).
    /// </summary>
    public const int WarmupPackets = 12_288;

    /// <summary>
    /// <paramref name="packets"/> frames of <paramref name="traffic"/> on one CPU after <see cref="WarmupPackets"/>
    /// warm-up frames (predictors trained, adaptive sites given time to learn).
    /// </summary>
    public static PacketPathCost Run(CpuProfile profile, DispatchStrategy strategy, TrafficPool traffic, int packets)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(traffic);
        using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = 1 });
        using var model = new CostModel(profile, 1, enabled: true);
        var stack = new NetStack(kernel.Core, new NetStackOptions { Strategy = strategy, Model = model });
        PacketPathRunner.Replay(stack, traffic, WarmupPackets, 1);
        // Keep the trained predictors: zero only what was charged.
        foreach (var cpu in model.Cpus)
            cpu.Account.Reset();
        stack.ResetCounters();
        PacketPathRunner.Replay(stack, traffic, packets, 1);
        var total = model.TotalCycles;
        var delivered = Enum.GetValues<NetFamily>().Sum(stack.Counters.Delivered);
        return new PacketPathCost(strategy, total / packets, (total - stack.WorkCycles) / packets, delivered);
    }
}
