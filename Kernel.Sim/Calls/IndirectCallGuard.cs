using System.Runtime.CompilerServices;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Calls;

/// <summary>
/// What the INDIRECT_CALL_1..4 guards share (include/linux/indirect_call_wrapper.h): candidates, per-site hit and miss
/// counters, the mitigated fallback site, and the modelled cost of the compare chain. Counters are plain increments:
/// exact with one caller per site, approximate under concurrent callers (as unsynchronised statistics are).
/// </summary>
public abstract class IndirectCallGuard<TArgs>
    where TArgs : struct
{
    private readonly CostModel? _model;
    private readonly long[] _hits;
    private long _misses;

    private protected IndirectCallGuard(string name, CallTarget<TArgs>[] candidates, Mitigation mitigation, CostModel? model, ulong address)
    {
        Fallback = new IndirectCallSite<TArgs>(name, mitigation, model, address);
        Candidates = candidates;
        _hits = new long[candidates.Length];
        _model = model;
    }

    /// <summary>Site name.</summary>
    public string Name => Fallback.Name;

    /// <summary>The candidates in compare order.</summary>
    public IReadOnlyList<CallTarget<TArgs>> Candidates { get; }

    /// <summary>The mitigated indirect call taken on a miss.</summary>
    public IndirectCallSite<TArgs> Fallback { get; }

    /// <summary>Calls that matched candidate <paramref name="index"/>.</summary>
    public long Hits(int index) => _hits[index];

    /// <summary>Calls that matched every candidate together.</summary>
    public long TotalHits => _hits.Sum();

    /// <summary>Calls that matched no candidate and went indirect.</summary>
    public long Misses => _misses;

    /// <summary>Calls <paramref name="target"/> through the guard.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Call(CallTarget<TArgs> target, TArgs args) => Call(target.FunctionPointer, target.Address, args);

    /// <summary>Calls the function at <paramref name="function"/> through the guard.</summary>
    public abstract int Call(nint function, ulong targetAddress, TArgs args);

    /// <summary>Zeroes the counters.</summary>
    public void ResetCounters()
    {
        Array.Clear(_hits);
        _misses = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected int Hit<T>(int index, TArgs args)
        where T : struct, ICallTarget<TArgs>
    {
        _hits[index]++;
        if (_model is { Enabled: true })
            return HitModelled<T>(index, args);
        return T.Invoke(args);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private protected int Miss(nint function, ulong targetAddress, TArgs args)
    {
        _misses++;
        if (_model is { Enabled: true })
        {
            var cpu = _model.Current;
            for (var i = 0; i < _hits.Length; i++)
                cpu.GuardCompare(Fallback.Address, i, taken: false);
        }

        return Fallback.Call(function, targetAddress, args);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int HitModelled<T>(int index, TArgs args)
        where T : struct, ICallTarget<TArgs>
    {
        var cpu = _model!.Current;
        for (var i = 0; i < index; i++)
            cpu.GuardCompare(Fallback.Address, i, taken: false);
        cpu.GuardCompare(Fallback.Address, index, taken: true);
        cpu.CallDirect(Fallback.Address);
        var result = T.Invoke(args);
        cpu.Return(Fallback.Address);
        return result;
    }
}
