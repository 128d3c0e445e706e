using System.Diagnostics;
using System.Runtime;
using Kernel.Sim.Core;
using Kernel.Sim.Cpu;
using Kernel.Sim.Hosting;

namespace Kernel.Sim.Net;

/// <summary>What <see cref="PacketPathRunner"/> runs.</summary>
public sealed class PacketPathRunOptions
{
    /// <summary>The strategies, each in a fresh kernel.</summary>
    public IReadOnlyList<DispatchStrategy> Strategies { get; init; } = DispatchStrategies.All;

    /// <summary>The frames to replay (cyclically).</summary>
    public required TrafficPool Traffic { get; init; }

    /// <summary>Frames per measured run (and per modelled run).</summary>
    public long Packets { get; init; } = 100_000;

    /// <summary>Frames run first, not counted (JIT tiering, adaptive sites learning, predictors warming).</summary>
    public long WarmupPackets { get; init; } = 20_000;

    /// <summary>Simulated CPUs (= rx queues), each on its own host thread.</summary>
    public int Cpus { get; init; } = 1;

    /// <summary>The CPU profile of the modelled run.</summary>
    public CpuProfile Profile { get; init; } = CpuProfiles.Skylake;

    /// <summary>Whether to run the modelled pass (cycles per packet) after the measured one.</summary>
    public bool Model { get; init; } = true;

    /// <summary>Registers an AF_PACKET tap.</summary>
    public bool PacketTap { get; init; }

    /// <summary>Called once per strategy after the kernel and path exist, before any traffic: attach XDP, probes, events.</summary>
    public Action<SimulatedKernel, NetStack>? Attach { get; init; }

    /// <summary>Called right before each strategy's measured pass (after warm-up): snapshot event or map counts.</summary>
    public Action<SimulatedKernel, NetStack, DispatchStrategy>? BeforeMeasured { get; init; }

    /// <summary>Called right after each strategy's measured pass, while its kernel exists (read maps, event counts).</summary>
    public Action<SimulatedKernel, NetStack, DispatchStrategy>? AfterMeasured { get; init; }

    /// <summary>Progress lines (for a display on stderr).</summary>
    public Action<string>? Progress { get; init; }
}

/// <summary>One call site's statistics in a run.</summary>
public sealed record CallSiteResult(string Name, IReadOnlyList<string> Candidates, long Hits, long Misses);

/// <summary>What one strategy did with the traffic: measured ns, modelled cycles, and where every frame ended.</summary>
public sealed record PathRunResult
{
    public required DispatchStrategy Strategy { get; init; }
    public required long Packets { get; init; }

    /// <summary>Host ns per packet (per core: the CPUs' elapsed times summed, divided by packets).</summary>
    public required double NsPerPacket { get; init; }

    /// <summary>Modelled cycles per packet (NaN when not modelled).</summary>
    public required double CyclesPerPacket { get; init; }

    /// <summary>Share of modelled cycles spent in the indirect call sites (call, mitigation, compares, mispredicts).</summary>
    public required double DispatchShare { get; init; }

    /// <summary>Modelled mispredicted branches per packet.</summary>
    public required double MispredictsPerPacket { get; init; }

    /// <summary>Hits / (hits + misses) over the guarded sites (NaN for strategies without guards).</summary>
    public required double GuardHitRate { get; init; }

    public required IReadOnlyDictionary<NetFamily, long> Delivered { get; init; }
    public required IReadOnlyDictionary<NetFamily, long> Dropped { get; init; }

    /// <summary>Frames sent back out by XDP_TX.</summary>
    public required long XdpTx { get; init; }

    public required IReadOnlyList<(DropReason Reason, long Count)> DropReasons { get; init; }
    public required IReadOnlyList<CallSiteResult> Sites { get; init; }
    public required IReadOnlyDictionary<NetCounter, long> Counters { get; init; }

    /// <summary>/proc/net/snmp after the measured run.</summary>
    public required string Snmp { get; init; }

    /// <summary>Total frames dropped.</summary>
    public long DroppedTotal => Dropped.Values.Sum();
}

/// <summary>
/// The main job: the same traffic through the receive path under each dispatch strategy, in a fresh kernel each.
/// A measured pass (modelling off) gives host ns per packet and the delivered/dropped counts; a modelled pass over
/// the same frames gives cycles per packet and the dispatch share, and must end with identical counts.
/// </summary>
public static class PacketPathRunner
{
    private static int s_warmed;

    /// <summary>Runs every strategy of <paramref name="options"/>.</summary>
    public static IReadOnlyList<PathRunResult> Run(PacketPathRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Packets, 1);
        var results = new List<PathRunResult>();
        var n = 0;
        foreach (var strategy in options.Strategies)
        {
            n++;
            options.Progress?.Invoke($"[{n}/{options.Strategies.Count}] {strategy.Name()}");
            results.Add(RunOne(options, strategy));
        }

        return results;
    }

    private static PathRunResult RunOne(PacketPathRunOptions options, DispatchStrategy strategy)
    {
        using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = options.Cpus, Profile = options.Profile.Name });
        using var model = new CostModel(options.Profile, options.Cpus, enabled: false);
        var stack = new NetStack(kernel.Core, new NetStackOptions { Strategy = strategy, Model = model, PacketTap = options.PacketTap }, kernel.Tracing);
        options.Attach?.Invoke(kernel, stack);

        // Warm until tiered JIT has promoted the path's methods: its background compile starts ~100 ms after the last
        // tier-0 compile and takes longer on a loaded machine, and each strategy brings new generic instantiations
        // (its sites and guards). A measured pass that starts earlier times tier-0 code (it once read 1190 ns per
        // packet where the promoted path takes ~200), so warm-up lasts until no method has been compiled for a while,
        // after a minimum of CPU time (the first kernel of a process also pays for compiling the whole path); wall
        // time caps it.
        var warm = Stopwatch.StartNew();
        var cpuTime = TimeSpan.Zero;
        var first = Interlocked.Exchange(ref s_warmed, 1) == 0;
        var (minRounds, minCpuMs, quietMs, maxMs) = first ? (4, 250, 300, 6000) : (2, 60, 150, 3000);
        var compiled = JitInfo.GetCompiledMethodCount();
        var lastCompile = 0L;
        for (var round = 0; round < 500; round++)
        {
            cpuTime += Replay(stack, options.Traffic, options.WarmupPackets, options.Cpus);
            var now = JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                compiled = now;
                lastCompile = warm.ElapsedMilliseconds;
            }

            var done = round + 1 >= minRounds && cpuTime.TotalMilliseconds >= minCpuMs && warm.ElapsedMilliseconds - lastCompile >= quietMs;
            if (done || warm.ElapsedMilliseconds >= maxMs)
                break;
        }

        stack.ResetCounters();
        var before = Snapshot(stack);
        options.BeforeMeasured?.Invoke(kernel, stack, strategy);
        options.Progress?.Invoke($"  {strategy.Name()}: measuring {options.Packets} packets");
        var elapsed = Replay(stack, options.Traffic, options.Packets, options.Cpus);
        options.AfterMeasured?.Invoke(kernel, stack, strategy);
        var sites = Sites(stack, before);
        var counters = Enum.GetValues<NetCounter>().ToDictionary(c => c, c => stack.Counters[c]);
        var delivered = Enum.GetValues<NetFamily>().ToDictionary(f => f, stack.Counters.Delivered);
        var dropped = Enum.GetValues<NetFamily>().ToDictionary(f => f, stack.Counters.Dropped);
        var reasons = stack.Counters.DropReasons();
        var snmp = ProcNetSnmp.Snmp(stack.Counters);

        double cycles = double.NaN, share = double.NaN, mispredicts = double.NaN;
        if (options.Model)
        {
            options.Progress?.Invoke($"  {strategy.Name()}: modelling {options.Packets} packets ({options.Profile.Name})");
            model.Enabled = true;
            Replay(stack, options.Traffic, Math.Min(options.WarmupPackets, options.Packets), options.Cpus);
            foreach (var cpu in model.Cpus)
                cpu.Account.Reset();
            stack.ResetCounters();
            Replay(stack, options.Traffic, options.Packets, options.Cpus);
            model.Enabled = false;
            var total = model.TotalCycles;
            cycles = total / options.Packets;
            share = total > 0 ? (total - stack.WorkCycles) / total : 0;
            mispredicts = model.Cpus.Sum(c => c.Account.Mispredicts) / (double)options.Packets;
            foreach (var family in Enum.GetValues<NetFamily>())
            {
                if (stack.Counters.Delivered(family) != delivered[family] || stack.Counters.Dropped(family) != dropped[family])
                    throw new InvalidOperationException($"{strategy.Name()}: the modelled pass ended differently from the measured one for {family}");
            }
        }

        var guarded = sites.Where(s => s.Candidates.Count > 0).ToArray();
        var hits = guarded.Sum(s => s.Hits);
        var calls = hits + guarded.Sum(s => s.Misses);
        var result = new PathRunResult
        {
            Strategy = strategy,
            Packets = options.Packets,
            NsPerPacket = elapsed.TotalNanoseconds / options.Packets,
            CyclesPerPacket = cycles,
            DispatchShare = share,
            MispredictsPerPacket = mispredicts,
            GuardHitRate = calls == 0 ? double.NaN : hits / (double)calls,
            Delivered = delivered,
            Dropped = dropped,
            XdpTx = counters[NetCounter.XdpTx],
            DropReasons = reasons,
            Sites = sites,
            Counters = counters,
            Snmp = snmp,
        };
        return result;
    }

    /// <summary>
    /// Replays <paramref name="packets"/> frames of <paramref name="traffic"/>: each CPU, on its own thread, DMAs its
    /// RSS share into its ring a NAPI weight at a time and runs the NET_RX softirq. Returns the CPUs' times summed (thread CPU time where available).
    /// </summary>
    public static TimeSpan Replay(NetStack stack, TrafficPool traffic, long packets, int cpus)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(traffic);
        var ns = new long[cpus];
        stack.Core.Cpus.RunOnEach(cpu =>
        {
            var count = traffic.PacketsFor(cpu.Id, packets);
            var start = ThreadCpuClock.NowNs();
            ReplayQueue(stack, traffic, cpu.Id, count);
            ns[cpu.Id] = ThreadCpuClock.NowNs() - start;
        });
        return TimeSpan.FromTicks(ns.Sum() / 100);
    }

    /// <summary>Replays <paramref name="count"/> frames of queue <paramref name="queue"/> on the calling thread's CPU (allocation-free).</summary>
    public static void ReplayQueue(NetStack stack, TrafficPool traffic, int queue, long count)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(traffic);
        var frames = traffic.QueueFrames(queue);
        if (frames.Length == 0)
            return;
        var ring = stack.Nic.Queues[queue];
        var next = 0;
        var sent = 0L;
        while (sent < count)
        {
            var batch = (int)Math.Min(NetConst.NapiPollWeight, count - sent);
            for (var i = 0; i < batch; i++)
            {
                var index = frames[next];
                next = next + 1 == frames.Length ? 0 : next + 1;
                if (!ring.Dma(traffic.Frame(index), traffic.Hash(index), traffic.Status(index)))
                    stack.CountMissed(queue);
            }

            stack.NetRxAction();
            sent += batch;
        }
    }

    private static Dictionary<string, (long Hits, long Misses)> Snapshot(NetStack stack) =>
        stack.CallSites.ToDictionary(s => s.Name, s => (s.Hits, s.Misses));

    private static List<CallSiteResult> Sites(NetStack stack, Dictionary<string, (long Hits, long Misses)> before) =>
        [.. stack.CallSites.Select(s => new CallSiteResult(s.Name, s.Candidates, s.Hits - before[s.Name].Hits, s.Misses - before[s.Name].Misses))];
}
