namespace Kernel.Sim.Cpu;

/// <summary>
/// A set-associative branch target buffer for indirect branches (and, with targets 0/1, guard conditions). Each
/// prediction is looked up by the branch address hashed with a global path history, so a site whose targets repeat
/// in a pattern shorter than the history (alternating two) is learned, while a random sequence is not. Replacement is
/// least recently used, so the model is deterministic.
/// </summary>
public sealed class BranchTargetBuffer
{
    /// <summary>Bits of each branch's outcome shifted into the path history.</summary>
    public const int HistoryBitsPerBranch = 8;

    private readonly int _sets;
    private readonly int _ways;
    private readonly ulong _historyMask;
    private readonly ulong[] _tags;
    private readonly ulong[] _targets;
    private readonly ulong[] _lastUse;
    private ulong _clock;

    public BranchTargetBuffer(CpuProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _sets = profile.BtbSets;
        _ways = profile.BtbWays;
        _historyMask = profile.BtbHistoryBits >= 64 ? ulong.MaxValue : (1UL << profile.BtbHistoryBits) - 1;
        _tags = new ulong[_sets * _ways];
        _targets = new ulong[_sets * _ways];
        _lastUse = new ulong[_sets * _ways];
    }

    /// <summary>The global path history register (low <see cref="CpuProfile.BtbHistoryBits"/> bits).</summary>
    public ulong History { get; private set; }

    /// <summary>
    /// Predicts the branch at <paramref name="branch"/>, then trains with the real <paramref name="target"/> and
    /// shifts it into the history. Returns true when the prediction was right (a cold entry predicts nothing).
    /// The entry tagged with the path history wins; when there is none, the branch's history-free base entry (the
    /// last target it went to) predicts, as the base table of a TAGE-style predictor does.
    /// </summary>
    public bool Predict(ulong branch, ulong target)
    {
        var withHistory = Mix(branch ^ Mix(History + 0x51ED27));
        var baseKey = Mix(branch ^ Mix(0x51ED27));
        var way = Find(withHistory);
        if (way < 0)
            way = Find(baseKey);
        var hit = way >= 0 && _targets[way] == target;
        Train(withHistory, target);
        if (withHistory != baseKey)
            Train(baseKey, target);

        // Path history as Intel's branch history buffer keeps it: a hash of the branch address and where it went.
        History = ((History << HistoryBitsPerBranch) ^ (Mix(branch ^ Mix(target)) >> (64 - HistoryBitsPerBranch))) & _historyMask;
        return hit;
    }

    /// <summary>Forgets every entry and the history (an IBPB).</summary>
    public void Flush()
    {
        Array.Clear(_tags);
        Array.Clear(_targets);
        Array.Clear(_lastUse);
        History = 0;
        _clock = 0;
    }

    private int Find(ulong key)
    {
        var first = SetOf(key) * _ways;
        var tag = TagOf(key);
        for (var i = first; i < first + _ways; i++)
        {
            if (_tags[i] == tag)
                return i;
        }

        return -1;
    }

    private void Train(ulong key, ulong target)
    {
        var way = Find(key);
        if (way < 0)
        {
            // Least recently used way of the set (an empty way has never been used, so it goes first).
            var first = SetOf(key) * _ways;
            way = first;
            for (var i = first + 1; i < first + _ways; i++)
            {
                if (_lastUse[i] < _lastUse[way])
                    way = i;
            }

            _tags[way] = TagOf(key);
        }

        _targets[way] = target;
        _lastUse[way] = ++_clock;
    }

    private int SetOf(ulong key) => (int)(key & (ulong)(_sets - 1));

    // Never 0, so 0 marks an empty way.
    private static ulong TagOf(ulong key) => (key >> 16) | 1;

    // A 64-bit finaliser (the splitmix64 constants): spreads nearby addresses over sets and history nibbles.
    private static ulong Mix(ulong x)
    {
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
