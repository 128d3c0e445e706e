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
    /// </summary>
    public bool Predict(ulong branch, ulong target)
    {
        var key = Mix(branch ^ Mix(History + 0x51ED27));
        var set = (int)(key & (ulong)(_sets - 1));
        var tag = (key >> 16) | 1; // never 0, so 0 marks an empty way
        var first = set * _ways;
        var victim = first;
        var hit = false;
        var found = -1;
        for (var i = first; i < first + _ways; i++)
        {
            if (_tags[i] == tag)
            {
                found = i;
                break;
            }

            if (_lastUse[i] < _lastUse[victim])
                victim = i;
        }

        if (found >= 0)
        {
            hit = _targets[found] == target;
            victim = found;
        }

        _tags[victim] = tag;
        _targets[victim] = target;
        _lastUse[victim] = ++_clock;
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
