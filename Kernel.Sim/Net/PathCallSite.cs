using System.Runtime.CompilerServices;
using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Net;

/// <summary>
/// One indirect call site of the receive path (<c>pt_prev-&gt;func</c>, <c>dst-&gt;input</c>, <c>ipprot-&gt;handler</c>,
/// <c>n-&gt;poll</c>, <c>prog-&gt;bpf_func</c>) under the path's <see cref="DispatchStrategy"/>, built from the
/// <c>Calls</c> primitives: the call really executes as an indirect call, a guard's direct call, a patched
/// static_call or an adaptive guard, and charges the cost model when modelling is on.
/// </summary>
public abstract class PathCallSite<TArgs>
    where TArgs : struct
{
    private protected PathCallSite(string name) => Name = name;

    /// <summary>The site, named as caller+offset (<c>__netif_receive_skb_one_core+0x4e</c>).</summary>
    public string Name { get; }

    /// <summary>Calls that took a direct call (guard or static_call hit); 0 for plain indirect sites.</summary>
    public abstract long Hits { get; }

    /// <summary>Calls that went through the (mitigated) indirect call.</summary>
    public abstract long Misses { get; }

    /// <summary>The candidates compared, in order (empty for plain indirect sites).</summary>
    public abstract IReadOnlyList<string> Candidates { get; }

    /// <summary>Calls <paramref name="target"/>.</summary>
    public abstract int Call(CallTarget<TArgs> target, TArgs args);
}

/// <summary>Builds the call sites of one strategy.</summary>
public static class PathCallSites
{
    /// <summary>
    /// A site whose guard candidates are <typeparamref name="T1"/> then <typeparamref name="T2"/> (Linux's order) and
    /// whose static_call target is <typeparamref name="TDefault"/>. <paramref name="neverWrapped"/> marks
    /// <c>deliver_skb</c>: always the mitigated indirect call.
    /// </summary>
    public static PathCallSite<TArgs> Create<TArgs, T1, T2, TDefault>(string name, DispatchStrategy strategy, CostModel? model, bool neverWrapped = false)
        where TArgs : struct
        where T1 : struct, ICallTarget<TArgs>
        where T2 : struct, ICallTarget<TArgs>
        where TDefault : struct, ICallTarget<TArgs>
    {
        var mitigation = strategy.Mitigation();
        if (neverWrapped)
            return new MitigatedSite<TArgs>(name, mitigation, model);
        return strategy switch
        {
            DispatchStrategy.Guards => new GuardSite<TArgs>(new IndirectCallGuard<TArgs, T1, T2>(name, mitigation, model)),
            DispatchStrategy.StaticCall => new StaticCallPathSite<TArgs>(name, StaticCall<TArgs>.Define<TDefault>(name, model), mitigation, model),
            DispatchStrategy.Adaptive => new AdaptiveSite<TArgs>(new AdaptiveCallSite<TArgs>(name, mitigation, model)),
            _ => new MitigatedSite<TArgs>(name, mitigation, model),
        };
    }

    /// <summary>A site with one Linux candidate (INDIRECT_CALL_1) — or none: <typeparamref name="T1"/> is then also the static_call target.</summary>
    public static PathCallSite<TArgs> Create<TArgs, T1>(string name, DispatchStrategy strategy, CostModel? model, bool guarded = true)
        where TArgs : struct
        where T1 : struct, ICallTarget<TArgs>
    {
        var mitigation = strategy.Mitigation();
        return strategy switch
        {
            DispatchStrategy.Guards when guarded => new GuardSite<TArgs>(new IndirectCallGuard<TArgs, T1>(name, mitigation, model)),
            DispatchStrategy.StaticCall => new StaticCallPathSite<TArgs>(name, StaticCall<TArgs>.Define<T1>(name, model), mitigation, model),
            DispatchStrategy.Adaptive => new AdaptiveSite<TArgs>(new AdaptiveCallSite<TArgs>(name, mitigation, model)),
            _ => new MitigatedSite<TArgs>(name, mitigation, model),
        };
    }

    private sealed class MitigatedSite<TArgs>(string name, Mitigation mitigation, CostModel? model) : PathCallSite<TArgs>(name)
        where TArgs : struct
    {
        private readonly IndirectCallSite<TArgs> _site = new(name, mitigation, model);
        private long _calls;

        public override long Hits => 0;

        public override long Misses => _calls;

        public override IReadOnlyList<string> Candidates => [];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public override int Call(CallTarget<TArgs> target, TArgs args)
        {
            _calls++;
            return _site.Call(target, args);
        }
    }

    private sealed class GuardSite<TArgs>(IndirectCallGuard<TArgs> guard) : PathCallSite<TArgs>(guard.Name)
        where TArgs : struct
    {
        public override long Hits => guard.TotalHits;

        public override long Misses => guard.Misses;

        public override IReadOnlyList<string> Candidates => [.. guard.Candidates.Select(c => c.Name)];

        public override int Call(CallTarget<TArgs> target, TArgs args) => guard.Call(target, args);
    }

    private sealed class AdaptiveSite<TArgs>(AdaptiveCallSite<TArgs> site) : PathCallSite<TArgs>(site.Name)
        where TArgs : struct
    {
        public override long Hits => site.Hits;

        public override long Misses => site.Misses;

        public override IReadOnlyList<string> Candidates => [.. site.Candidates.Select(c => c.Name)];

        public override int Call(CallTarget<TArgs> target, TArgs args) => site.Call(target, args);
    }

    // static_call replaces a call with one target. At a site that sees several targets the patched call can only
    // serve the configured one; the others need the identity compare and the mitigated indirect call — a one-
    // candidate guard whose candidate is patchable at run time (static_call_update) instead of fixed at build time.
    private sealed class StaticCallPathSite<TArgs> : PathCallSite<TArgs>
        where TArgs : struct
    {
        private readonly StaticCallSite<TArgs, Caller> _site;
        private readonly IndirectCallSite<TArgs> _fallback;
        private readonly CostModel? _model;
        private readonly ulong _address;
        private readonly CallTarget<TArgs> _target;
        private long _hits;
        private long _misses;

        public StaticCallPathSite(string name, StaticCall<TArgs> call, Mitigation mitigation, CostModel? model)
            : base(name)
        {
            _site = call.Site<Caller>(name);
            _fallback = new IndirectCallSite<TArgs>(name + ".fallback", mitigation, model);
            _model = model;
            _address = _site.Site.Address;
            _target = call.Target!;
        }

        public override long Hits => _hits;

        public override long Misses => _misses;

        public override IReadOnlyList<string> Candidates => [_target.Name];

        public override int Call(CallTarget<TArgs> target, TArgs args)
        {
            var hit = ReferenceEquals(target, _target);
            if (_model is { Enabled: true })
                _model.Current.GuardCompare(_address, 0, hit);
            if (hit)
            {
                _hits++;
                return _site.Run(args);
            }

            _misses++;
            return _fallback.Call(target, args);
        }

        private readonly struct Caller : IStaticCallCaller<TArgs>
        {
            public static int Run<TTarget>(TArgs args)
                where TTarget : struct, ICallTarget<TArgs> => TTarget.Invoke(args);
        }
    }
}
