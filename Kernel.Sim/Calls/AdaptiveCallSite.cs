using Kernel.Sim.Cpu;

namespace Kernel.Sim.Calls;

/// <summary>Tuning of an <see cref="AdaptiveCallSite{TArgs}"/>.</summary>
public sealed record AdaptiveOptions
{
    /// <summary>One call in this many is sampled, on average (a power of two; the interval is jittered).</summary>
    public int SampleEvery { get; init; } = 16;

    /// <summary>Samples per learning window; a decision is taken at the end of each.</summary>
    public int Window { get; init; } = 256;

    /// <summary>At most this many guard candidates (INDIRECT_CALL_4 is the widest).</summary>
    public int MaxCandidates { get; init; } = 4;

    /// <summary>A target needs at least this share of a window's samples to be (or stay) a candidate.</summary>
    public double MinShare { get; init; } = 0.10;
}

/// <summary>What an adaptive site decided at the end of a window in which its hot set changed.</summary>
/// <param name="Site">Site name.</param>
/// <param name="Window">Window number (from 1).</param>
/// <param name="Candidates">The new candidates, hottest first (the guard's compare order).</param>
/// <param name="Promoted">Targets that became candidates.</param>
/// <param name="Demoted">Targets that stopped being candidates.</param>
/// <param name="Coverage">Share of the window's samples the new candidates cover (the expected hit rate).</param>
public sealed record AdaptiveDecision(
    string Site, long Window, IReadOnlyList<string> Candidates, IReadOnlyList<string> Promoted, IReadOnlyList<string> Demoted, double Coverage)
{
    public override string ToString() =>
        $"{Site}: window {Window}: candidates [{string.Join(", ", Candidates)}] +[{string.Join(", ", Promoted)}] -[{string.Join(", ", Demoted)}] coverage {Coverage:P1}";
}

/// <summary>
/// Adaptive devirtualisation (the idea of Nadav Amit's relpoline/optpoline RFCs, never merged into Linux): an indirect
/// call site that samples its targets, picks the hottest (up to four) at the end of each window, and repatches itself
/// into the matching INDIRECT_CALL guard — candidates compared hottest first, direct calls on a hit, the mitigated
/// indirect call on a miss. When the distribution shifts, the next window's decision promotes and demotes targets.
/// A repatch goes through text_poke_bp on the site's candidate slots and swaps the managed guard with one atomic store.
/// </summary>
public sealed class AdaptiveCallSite<TArgs>
    where TArgs : struct
{
    private const int SlotsInTable = 16;
    private const int DecisionsKept = 64;

    private readonly AdaptiveOptions _options;
    private readonly CostModel? _model;
    private readonly Mitigation _mitigation;
    private readonly object _mutex = new();
    private readonly CallTarget<TArgs>?[] _sampled = new CallTarget<TArgs>?[SlotsInTable];
    private readonly int[] _sampleCounts = new int[SlotsInTable];
    private readonly int[] _ranked = new int[SlotsInTable];
    private readonly PatchSite[] _slots;
    private readonly List<AdaptiveDecision> _decisions = [];
    private IndirectCallGuard<TArgs> _guard;
    private int _countdown;
    private uint _jitter = 0x9E3779B9;
    private int _samples;
    private long _windows;
    private long _retiredHits;
    private long _retiredMisses;

    public AdaptiveCallSite(string name, Mitigation mitigation, CostModel? model = null, AdaptiveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _options = options ?? new AdaptiveOptions();
        if (_options.SampleEvery < 1 || (_options.SampleEvery & (_options.SampleEvery - 1)) != 0)
            throw new ArgumentException("adaptive site: SampleEvery must be a power of two", nameof(options));
        if (_options.Window < 1 || _options.MaxCandidates is < 0 or > 4 || _options.MinShare is <= 0 or > 1)
            throw new ArgumentException("adaptive site: Window ≥ 1, MaxCandidates 0..4 and MinShare in (0, 1] are required", nameof(options));
        Name = name;
        _mitigation = mitigation;
        _model = model;
        _countdown = _options.SampleEvery;
        _guard = new UnguardedCall<TArgs>(name, mitigation, model);
        var address = KernelText.AddressOf(name);
        _slots = new PatchSite[_options.MaxCandidates];
        for (var i = 0; i < _slots.Length; i++)
        {
            var slot = address + 0x10 + (ulong)(i * 0x10);
            _slots[i] = new PatchSite($"{name}+slot{i}", slot, SlotBytes(slot, null));
        }
    }

    /// <summary>Site name.</summary>
    public string Name { get; }

    /// <summary>The current candidates in compare order.</summary>
    public IReadOnlyList<CallTarget<TArgs>> Candidates => Volatile.Read(ref _guard).Candidates;

    /// <summary>The byte model of the candidate slots: <c>call rel32</c> to a candidate, or <c>jmp</c> to the fallback.</summary>
    public IReadOnlyList<PatchSite> Slots => _slots;

    /// <summary>Calls that hit a candidate, over every plan so far.</summary>
    public long Hits => Interlocked.Read(ref _retiredHits) + Volatile.Read(ref _guard).TotalHits;

    /// <summary>Calls that went indirect, over every plan so far.</summary>
    public long Misses => Interlocked.Read(ref _retiredMisses) + Volatile.Read(ref _guard).Misses;

    /// <summary>The most recent decisions (up to 64), oldest first.</summary>
    public IReadOnlyList<AdaptiveDecision> Decisions
    {
        get
        {
            lock (_mutex)
                return [.. _decisions];
        }
    }

    /// <summary>Raised (on the calling thread, outside the hot path) after each repatch.</summary>
    public event Action<AdaptiveDecision>? Decided;

    /// <summary>Calls <paramref name="target"/> through the current guard.</summary>
    public int Call(CallTarget<TArgs> target, TArgs args)
    {
        // Racy on purpose: a lost decrement only delays a sample; the `<=` heals a missed zero.
        if (--_countdown <= 0)
            Sample(target);
        return Volatile.Read(ref _guard).Call(target.FunctionPointer, target.Address, args);
    }

    private void Sample(CallTarget<TArgs> target)
    {
        if (!Monitor.TryEnter(_mutex))
            return; // another thread is deciding; skipping a sample keeps the hot path lock-free
        try
        {
            _countdown = NextInterval();
            Record(target);
            if (++_samples >= _options.Window)
                Decide();
        }
        finally
        {
            Monitor.Exit(_mutex);
        }
    }

    // Sampling every Nth call exactly would alias with periodic patterns (alternating targets sampled at an even
    // period always see the same one), so the interval is jittered in [N/2, 3N/2) by a deterministic xorshift.
    private int NextInterval()
    {
        if (_options.SampleEvery == 1)
            return 1;
        _jitter ^= _jitter << 13;
        _jitter ^= _jitter >> 17;
        _jitter ^= _jitter << 5;
        return (_options.SampleEvery / 2) + (int)(_jitter & (uint)(_options.SampleEvery - 1));
    }

    private void Record(CallTarget<TArgs> target)
    {
        var free = -1;
        for (var i = 0; i < SlotsInTable; i++)
        {
            if (ReferenceEquals(_sampled[i], target))
            {
                _sampleCounts[i]++;
                return;
            }

            if (free < 0 && _sampled[i] is null)
                free = i;
        }

        if (free >= 0)
        {
            _sampled[free] = target;
            _sampleCounts[free] = 1;
        }

        // A full table drops the sample: with at most 4 candidates, the 17th-hottest target never matters.
    }

    private void Decide()
    {
        _windows++;
        // The hot set without LINQ or arrays: a window that confirms the current guard (the steady state) allocates
        // nothing; only a repatch builds the new guard and its decision record.
        var chosen = RankHottest();
        var covered = 0;
        for (var k = 0; k < chosen; k++)
            covered += _sampleCounts[_ranked[k]];
        var coverage = covered / (double)_samples;
        var current = _guard.Candidates;
        var same = chosen == current.Count;
        for (var k = 0; same && k < chosen; k++)
            same = Contains(current, _sampled[_ranked[k]]!);
        if (same)
        {
            ClearWindow();
            return;
        }

        var candidates = new CallTarget<TArgs>[chosen];
        for (var k = 0; k < chosen; k++)
            candidates[k] = _sampled[_ranked[k]]!;
        ClearWindow();
        Repatch(candidates, current, coverage);
    }

    // Separate from Decide: the publish closure's captures would otherwise be allocated on every window.
    private void Repatch(CallTarget<TArgs>[] candidates, IReadOnlyList<CallTarget<TArgs>> current, double coverage)
    {
        var next = candidates.Length == 0
            ? new UnguardedCall<TArgs>(Name, _mitigation, _model)
            : (IndirectCallGuard<TArgs>)Activator.CreateInstance(GuardType(candidates), Name, _mitigation, _model, 0UL)!;
        var retired = _guard;
        for (var i = 0; i < _slots.Length; i++)
        {
            var candidate = i < candidates.Length ? candidates[i] : null;
            Action? publish = i == 0 ? () => Volatile.Write(ref _guard, next) : null;
            TextPoke.Poke(_slots[i], SlotBytes(_slots[i].Address, candidate), publish, _model);
        }

        if (_slots.Length == 0)
            Volatile.Write(ref _guard, next);
        Interlocked.Add(ref _retiredHits, retired.TotalHits);
        Interlocked.Add(ref _retiredMisses, retired.Misses);

        var decision = new AdaptiveDecision(
            Name,
            _windows,
            [.. candidates.Select(c => c.Name)],
            [.. candidates.Except(current).Select(c => c.Name)],
            [.. current.Except(candidates).Select(c => c.Name)],
            coverage);
        if (_decisions.Count == DecisionsKept)
            _decisions.RemoveAt(0);
        _decisions.Add(decision);
        Decided?.Invoke(decision);
    }

    // Fills _ranked with the table slots of the window's candidates, hottest first (ties by lower address), and
    // returns how many: patchable targets with at least MinShare of the samples, at most MaxCandidates.
    private int RankHottest()
    {
        var eligible = 0;
        for (var i = 0; i < SlotsInTable; i++)
        {
            if (_sampled[i] is not { TargetType: not null } || _sampleCounts[i] < _options.MinShare * _samples)
                continue;
            // Insertion sort into _ranked[0..eligible): at most 16 entries.
            var at = eligible++;
            while (at > 0 && Hotter(i, _ranked[at - 1]))
            {
                _ranked[at] = _ranked[at - 1];
                at--;
            }

            _ranked[at] = i;
        }

        return Math.Min(eligible, _options.MaxCandidates);
    }

    private bool Hotter(int a, int b) =>
        _sampleCounts[a] != _sampleCounts[b] ? _sampleCounts[a] > _sampleCounts[b] : _sampled[a]!.Address < _sampled[b]!.Address;

    private static bool Contains(IReadOnlyList<CallTarget<TArgs>> list, CallTarget<TArgs> target)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (ReferenceEquals(list[i], target))
                return true;
        }

        return false;
    }

    private void ClearWindow()
    {
        Array.Clear(_sampled);
        Array.Clear(_sampleCounts);
        _samples = 0;
    }

    private static Type GuardType(CallTarget<TArgs>[] candidates)
    {
        var definition = candidates.Length switch
        {
            1 => typeof(IndirectCallGuard<,>),
            2 => typeof(IndirectCallGuard<,,>),
            3 => typeof(IndirectCallGuard<,,,>),
            _ => typeof(IndirectCallGuard<,,,,>),
        };
        return definition.MakeGenericType([typeof(TArgs), .. candidates.Select(c => c.TargetType!)]);
    }

    private byte[] SlotBytes(ulong slot, CallTarget<TArgs>? candidate) =>
        candidate is null
            ? PatchSite.Branch(slot, KernelText.AddressOf(Name) + 0x100, call: false)
            : PatchSite.Branch(slot, candidate.Address, call: true);
}

/// <summary>A guard with no candidates: every call is the mitigated indirect call (an adaptive site before it learns).</summary>
internal sealed class UnguardedCall<TArgs> : IndirectCallGuard<TArgs>
    where TArgs : struct
{
    public UnguardedCall(string name, Mitigation mitigation, CostModel? model)
        : base(name, [], mitigation, model, 0)
    {
    }

    public override int Call(nint function, ulong targetAddress, TArgs args) => Miss(function, targetAddress, args);
}
