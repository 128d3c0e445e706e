using Kernel.Sim.Cpu;

namespace Kernel.Sim.Calls;

/// <summary>How a call site's targets follow each other.</summary>
public enum CallPattern
{
    /// <summary>Always the first target.</summary>
    Mono,

    /// <summary>Round robin over the targets (with two: alternating).</summary>
    Alternate,

    /// <summary>Uniformly random among the targets, from the seed.</summary>
    Random,
}

/// <summary>What the model predicts for one mechanism.</summary>
/// <param name="Mechanism">Mechanism name shared with <c>kernelsim lab</c> (<c>direct</c>, <c>retpoline</c>, ...).</param>
/// <param name="CyclesPerCall">Modelled cycles per call.</param>
/// <param name="NsPerCall">The same at the profile's nominal clock.</param>
/// <param name="MispredictsPerCall">Mispredicted branches per call.</param>
/// <param name="Calls">Calls run.</param>
/// <param name="TextPokes">Code patches charged (adaptive repatching).</param>
public sealed record ModelResult(string Mechanism, double CyclesPerCall, double NsPerCall, double MispredictsPerCall, long Calls, long TextPokes);

/// <summary>
/// Runs every dispatch mechanism through the real <c>Calls</c> primitives with modelling on and reports modelled
/// cycles per call. Deterministic: the same arguments give the same results.
/// </summary>
public static class DispatchModel
{
    /// <summary>Mechanism names in report order (the names <c>kernelsim lab</c> uses too).</summary>
    public static IReadOnlyList<string> Mechanisms { get; } =
    [
        "direct", "indirect", "retpoline", "retpoline-lfence", "eibrs", "ibrs", "guard-hit", "guard-miss",
        "static-call", "static-call-trampoline", "adaptive",
    ];

    private static readonly CallTarget<nint>[] AllTargets =
    [
        CallTarget<nint>.Of<IpRcv>(), CallTarget<nint>.Of<Ipv6Rcv>(), CallTarget<nint>.Of<ArpRcv>(), CallTarget<nint>.Of<PacketRcv>(),
    ];

    /// <summary>
    /// Models <paramref name="calls"/> calls with <paramref name="targets"/> (1, 2 or 4) targets in
    /// <paramref name="pattern"/>. Guard misses and the adaptive site's misses use <paramref name="fallback"/>.
    /// </summary>
    public static IReadOnlyList<ModelResult> Run(CpuProfile profile, int targets, CallPattern pattern, int calls, ulong seed, Mitigation fallback = Mitigation.Retpoline)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (targets is not (1 or 2 or 4))
            throw new ArgumentOutOfRangeException(nameof(targets), targets, "targets must be 1, 2 or 4");
        ArgumentOutOfRangeException.ThrowIfLessThan(calls, 1);

        var results = new List<ModelResult>(Mechanisms.Count);
        foreach (var mechanism in Mechanisms)
        {
            using var model = new CostModel(profile);
            var run = Build(mechanism, model, targets, fallback);
            // Warm the predictors on the same sequence first: the figures are steady state, as the lab's loops are.
            foreach (var target in Sequence(targets, pattern, calls, seed))
                run(target);
            model.Current.Account.Reset();
            foreach (var target in Sequence(targets, pattern, calls, seed))
                run(target);
            var account = model.Current.Account;
            var cycles = account.Cycles / calls;
            results.Add(new ModelResult(mechanism, cycles, cycles / profile.NominalGhz, account.Mispredicts / (double)calls, calls, account.TextPokes));
        }

        return results;
    }

    // Streamed, not stored: a run of 100M calls needs no 800 MB array. Each pass replays the same seed.
    private static IEnumerable<CallTarget<nint>> Sequence(int targets, CallPattern pattern, int calls, ulong seed)
    {
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        for (var i = 0; i < calls; i++)
        {
            yield return AllTargets[pattern switch
            {
                CallPattern.Mono => 0,
                CallPattern.Alternate => i % targets,
                _ => random.Next(targets),
            }];
        }
    }

    private static Func<CallTarget<nint>, int> Build(string mechanism, CostModel model, int targets, Mitigation fallback)
    {
        IndirectCallSite<nint> Site(Mitigation m) => new($"model_{mechanism}", m, model);
        switch (mechanism)
        {
            case "direct":
            {
                var address = KernelText.AddressOf("model_direct");
                return _ =>
                {
                    model.Current.CallDirect(address);
                    // A direct call has one target whatever the pattern.
                    var r = IpRcv.Invoke(1);
                    model.Current.Return(address);
                    return r;
                };
            }

            case "indirect":
                return Site(Mitigation.None).CallOne;
            case "retpoline":
                return Site(Mitigation.Retpoline).CallOne;
            case "retpoline-lfence":
                return Site(Mitigation.RetpolineLfence).CallOne;
            case "eibrs":
                return Site(Mitigation.Eibrs).CallOne;
            case "ibrs":
                return Site(Mitigation.Ibrs).CallOne;
            case "guard-hit":
            {
                IndirectCallGuard<nint> guard = targets switch
                {
                    1 => new IndirectCallGuard<nint, IpRcv>("model_guard_hit", fallback, model),
                    2 => new IndirectCallGuard<nint, IpRcv, Ipv6Rcv>("model_guard_hit", fallback, model),
                    _ => new IndirectCallGuard<nint, IpRcv, Ipv6Rcv, ArpRcv, PacketRcv>("model_guard_hit", fallback, model),
                };
                return t => guard.Call(t, 1);
            }

            case "guard-miss":
            {
                var guard = new IndirectCallGuard<nint, TpacketRcv>("model_guard_miss", fallback, model);
                return t => guard.Call(t, 1);
            }

            case "static-call":
            {
                var site = StaticCall<nint>.Define<IpRcv>("model_static_call", model).Site<ModelCaller>("model_static_call_site");
                return _ => site.Run(1);
            }

            case "static-call-trampoline":
            {
                var call = StaticCall<nint>.Define<IpRcv>("model_static_call_tramp", model);
                return _ => call.Call(1);
            }

            default:
            {
                var site = new AdaptiveCallSite<nint>("model_adaptive", fallback, model);
                return t => site.Call(t, 1);
            }
        }
    }

    private static int CallOne(this IndirectCallSite<nint> site, CallTarget<nint> target) => site.Call(target, 1);

    private readonly struct ModelCaller : IStaticCallCaller<nint>
    {
        public static int Run<TTarget>(nint args)
            where TTarget : struct, ICallTarget<nint> => TTarget.Invoke(args);
    }
}
