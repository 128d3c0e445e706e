using System.Runtime.InteropServices;

namespace Kernel.Sim.Native;

/// <summary>
/// A table of <see cref="CallLoopImage.TableLength"/> target addresses in native memory that a generated loop
/// walks cyclically: the pattern lives in data, so every loop has the same code whatever the pattern.
/// </summary>
internal sealed unsafe class TargetTable : IDisposable
{
    private readonly int[] _indices;

    public TargetTable(CallLoopImage image, TargetPattern pattern, int seed = 1)
    {
        Pattern = pattern;
        _indices = pattern.Indices(CallLoopImage.TableLength, seed);
        Slots = (ulong*)NativeMemory.AlignedAlloc(CallLoopImage.TableLength * sizeof(ulong), 64);
        for (var i = 0; i < _indices.Length; i++)
            Slots[i] = image.TargetAddress(_indices[i]);
    }

    public TargetPattern Pattern { get; }

    public ulong* Slots { get; private set; }

    /// <summary>Target index of slot <paramref name="slot"/>.</summary>
    public int IndexAt(long slot) => _indices[slot & (CallLoopImage.TableLength - 1)];

    /// <summary>Calls that the first <paramref name="calls"/> iterations make to each target.</summary>
    public long[] CallsPerTarget(long calls)
    {
        var counts = new long[CallLoopImage.TargetCount];
        var cycles = calls / CallLoopImage.TableLength;
        var rest = calls % CallLoopImage.TableLength;
        for (var i = 0; i < _indices.Length; i++)
            counts[_indices[i]] += cycles + (i < rest ? 1 : 0);
        return counts;
    }

    /// <summary>What a table-following loop returns after <paramref name="calls"/> iterations from <paramref name="x"/>: target k adds k + 1.</summary>
    public long ExpectedResult(long calls, long x)
    {
        var counts = CallsPerTarget(calls);
        for (var k = 0; k < counts.Length; k++)
            x += counts[k] * (k + 1);
        return x;
    }

    public void Dispose()
    {
        if (Slots != null)
            NativeMemory.AlignedFree(Slots);
        Slots = null;
    }
}
