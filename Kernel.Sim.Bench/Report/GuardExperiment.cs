using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Bench.Report;

/// <summary>What an INDIRECT_CALL guard did with one traffic sequence, beside the plain mitigated indirect call.</summary>
/// <param name="Candidates">Candidate names in compare order.</param>
/// <param name="Hits">Hits per candidate.</param>
/// <param name="Misses">Calls that matched no candidate.</param>
/// <param name="GuardCycles">Modelled cycles per call through the guard.</param>
/// <param name="IndirectCycles">Modelled cycles per call through the unguarded indirect call (same mitigation).</param>
public sealed record GuardOutcome(IReadOnlyList<string> Candidates, IReadOnlyList<long> Hits, long Misses, double GuardCycles, double IndirectCycles)
{
    /// <summary>Calls measured.</summary>
    public long Calls => Hits.Sum() + Misses;

    /// <summary>Share of calls that hit a candidate.</summary>
    public double HitRate => Calls == 0 ? 0 : Hits.Sum() / (double)Calls;

    /// <summary>Cycles per call the guard saves (negative: it loses).</summary>
    public double Saving => IndirectCycles - GuardCycles;
}

/// <summary>
/// Runs a traffic sequence through a real <see cref="IndirectCallGuard{TArgs}"/> (INDIRECT_CALL_1..4) and through a
/// plain <see cref="IndirectCallSite{TArgs}"/>, both under the cost model, after one warm-up pass of the same
/// sequence (steady state, as <see cref="DispatchModel"/> measures).
/// </summary>
public static class GuardExperiment
{
    /// <summary>Guards <paramref name="sequence"/> with <paramref name="candidates"/> (compare order), falling back to <paramref name="mitigation"/>.</summary>
    public static GuardOutcome Run(CpuProfile profile, Mitigation mitigation, IReadOnlyList<CallTarget<nint>> candidates, IReadOnlyList<CallTarget<nint>> sequence, string site = "__netif_receive_skb_core+0x3f5")
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(sequence);
        if (candidates.Count is < 1 or > 4)
            throw new ArgumentOutOfRangeException(nameof(candidates), candidates.Count, "INDIRECT_CALL_1..4 take 1 to 4 candidates");

        double guardCycles;
        IndirectCallGuard<nint> guard;
        using (var model = new CostModel(profile))
        {
            guard = Create(site, mitigation, model, candidates);
            foreach (var target in sequence)
                guard.Call(target, 1);
            guard.ResetCounters();
            model.Reset();
            foreach (var target in sequence)
                guard.Call(target, 1);
            guardCycles = model.Current.Account.Cycles / sequence.Count;
        }

        double indirectCycles;
        using (var model = new CostModel(profile))
        {
            var plain = new IndirectCallSite<nint>(site, mitigation, model);
            foreach (var target in sequence)
                plain.Call(target, 1);
            model.Reset();
            foreach (var target in sequence)
                plain.Call(target, 1);
            indirectCycles = model.Current.Account.Cycles / sequence.Count;
        }

        var hits = Enumerable.Range(0, candidates.Count).Select(guard.Hits).ToArray();
        return new GuardOutcome([.. candidates.Select(ModelTargets.LinuxName)], hits, guard.Misses, guardCycles, indirectCycles);
    }

    /// <summary>An INDIRECT_CALL_n guard over <paramref name="candidates"/>, built for their target types.</summary>
    public static IndirectCallGuard<nint> Create(string site, Mitigation mitigation, CostModel? model, IReadOnlyList<CallTarget<nint>> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var definition = candidates.Count switch
        {
            1 => typeof(IndirectCallGuard<,>),
            2 => typeof(IndirectCallGuard<,,>),
            3 => typeof(IndirectCallGuard<,,,>),
            4 => typeof(IndirectCallGuard<,,,,>),
            _ => throw new ArgumentOutOfRangeException(nameof(candidates), candidates.Count, "1 to 4 candidates"),
        };
        var type = definition.MakeGenericType([typeof(nint), .. candidates.Select(c => c.TargetType!)]);
        return (IndirectCallGuard<nint>)Activator.CreateInstance(type, site, mitigation, model, 0UL)!;
    }
}
