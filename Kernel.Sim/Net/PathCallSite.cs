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
/// <remarks>
/// One sealed class that switches on its kind rather than a subclass per strategy: the path's functions call sites
/// of every strategy in one process (the run verb, the benchmark suites), and a virtual call here let the .NET
/// JIT's profile-guided devirtualisation specialise the path for whichever strategy ran first, so that later
/// strategies measured up to 60% slower than the same strategy run alone.
/// </remarks>
public sealed class PathCallSite<TArgs>
    where TArgs : struct
{
    private readonly PathCallSiteKind _kind;
    private readonly IndirectCallSite<TArgs>? _mitigated;
    private readonly IndirectCallGuard<TArgs>? _guard;
    private readonly StaticCallPathSite<TArgs>? _static;
    private readonly AdaptiveCallSite<TArgs>? _adaptive;
    private long _calls;

    internal PathCallSite(string name, IndirectCallSite<TArgs> mitigated)
        : this(name, PathCallSiteKind.Mitigated) => _mitigated = mitigated;

    internal PathCallSite(IndirectCallGuard<TArgs> guard)
        : this(guard.Name, PathCallSiteKind.Guard) => _guard = guard;

    internal PathCallSite(StaticCallPathSite<TArgs> site)
        : this(site.Name, PathCallSiteKind.StaticCall) => _static = site;

    internal PathCallSite(AdaptiveCallSite<TArgs> site)
        : this(site.Name, PathCallSiteKind.Adaptive) => _adaptive = site;

    private PathCallSite(string name, PathCallSiteKind kind)
    {
        Name = name;
        _kind = kind;
    }

    /// <summary>The site, named as caller+offset (<c>__netif_receive_skb_one_core+0x4e</c>).</summary>
    public string Name { get; }

    /// <summary>Calls that took a direct call (guard or static_call hit); 0 for plain indirect sites.</summary>
    public long Hits => _kind switch
    {
        PathCallSiteKind.Guard => _guard!.TotalHits,
        PathCallSiteKind.StaticCall => _static!.Hits,
        PathCallSiteKind.Adaptive => _adaptive!.Hits,
        _ => 0,
    };

    /// <summary>Calls that went through the (mitigated) indirect call.</summary>
    public long Misses => _kind switch
    {
        PathCallSiteKind.Guard => _guard!.Misses,
        PathCallSiteKind.StaticCall => _static!.Misses,
        PathCallSiteKind.Adaptive => _adaptive!.Misses,
        _ => _calls,
    };

    /// <summary>The candidates compared, in order (empty for plain indirect sites).</summary>
    public IReadOnlyList<string> Candidates => _kind switch
    {
        PathCallSiteKind.Guard => [.. _guard!.Candidates.Select(c => c.Name)],
        PathCallSiteKind.StaticCall => [_static!.Target.Name],
        PathCallSiteKind.Adaptive => [.. _adaptive!.Candidates.Select(c => c.Name)],
        _ => [],
    };

    /// <summary>Calls <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Call(CallTarget<TArgs> target, TArgs args)
    {
        switch (_kind)
        {
            case PathCallSiteKind.Mitigated:
                _calls++;
                return _mitigated!.Call(target, args);
            case PathCallSiteKind.Guard:
                return _guard!.Call(target.FunctionPointer, target.Address, args);
            case PathCallSiteKind.StaticCall:
                return _static!.Call(target, args);
            default:
                return _adaptive!.Call(target, args);
        }
    }
}

internal enum PathCallSiteKind
{
    Mitigated,
    Guard,
    StaticCall,
    Adaptive,
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
            return new PathCallSite<TArgs>(name, new IndirectCallSite<TArgs>(name, mitigation, model));
        return strategy switch
        {
            DispatchStrategy.Guards => new PathCallSite<TArgs>(new IndirectCallGuard<TArgs, T1, T2>(name, mitigation, model)),
            DispatchStrategy.StaticCall => new PathCallSite<TArgs>(new StaticCallPathSite<TArgs>(name, StaticCall<TArgs>.Define<TDefault>(name, model), mitigation, model)),
            DispatchStrategy.Adaptive => new PathCallSite<TArgs>(new AdaptiveCallSite<TArgs>(name, mitigation, model)),
            _ => new PathCallSite<TArgs>(name, new IndirectCallSite<TArgs>(name, mitigation, model)),
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
            DispatchStrategy.Guards when guarded => new PathCallSite<TArgs>(new IndirectCallGuard<TArgs, T1>(name, mitigation, model)),
            DispatchStrategy.StaticCall => new PathCallSite<TArgs>(new StaticCallPathSite<TArgs>(name, StaticCall<TArgs>.Define<T1>(name, model), mitigation, model)),
            DispatchStrategy.Adaptive => new PathCallSite<TArgs>(new AdaptiveCallSite<TArgs>(name, mitigation, model)),
            _ => new PathCallSite<TArgs>(name, new IndirectCallSite<TArgs>(name, mitigation, model)),
        };
    }
}

// static_call replaces a call with one target. At a site that sees several targets the patched call can only
// serve the configured one; the others need the identity compare and the mitigated indirect call — a one-
// candidate guard whose candidate is patchable at run time (static_call_update) instead of fixed at build time.
internal sealed class StaticCallPathSite<TArgs>
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
    {
        Name = name;
        _site = call.Site<Caller>(name);
        _fallback = new IndirectCallSite<TArgs>(name + ".fallback", mitigation, model);
        _model = model;
        _address = _site.Site.Address;
        _target = call.Target!;
    }

    public string Name { get; }

    public long Hits => _hits;

    public long Misses => _misses;

    /// <summary>The target the static_call is patched to.</summary>
    public CallTarget<TArgs> Target => _target;

    public int Call(CallTarget<TArgs> target, TArgs args)
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
