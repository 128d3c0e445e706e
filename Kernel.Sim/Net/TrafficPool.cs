using System.Runtime.InteropServices;

namespace Kernel.Sim.Net;

/// <summary>
/// Frames prepared once and replayed cyclically: their bytes in native memory, and what the NIC computes for each
/// in hardware (RSS hash, rx queue, L4 checksum verdict). Replaying copies a frame into a ring (the DMA) and
/// allocates nothing.
/// </summary>
public sealed unsafe class TrafficPool : IDisposable
{
    // Frames are packed, each at a cache-line boundary: replaying a pool of 8192 minimum-size frames then streams
    // 512 KiB the prefetcher follows, where a fixed 2 KiB stride spread them over 16 MiB and cost a TLB miss per
    // frame, a cost of the simulated wire that a real NIC's DMA does not put on the CPU.
    private const int Alignment = 64;

    private readonly byte* _frames;
    private readonly long[] _offset;
    private readonly int[] _length;
    private readonly RxStatus[] _status;
    private readonly uint[] _hash;
    private readonly int[][] _byQueue;
    private bool _disposed;

    private TrafficPool(IReadOnlyList<byte[]> frames, int queues, string description)
    {
        if (frames.Count == 0)
            throw new ArgumentException("no frames to replay", nameof(frames));
        Count = frames.Count;
        Description = description;
        _offset = new long[Count];
        _length = new int[Count];
        var total = 0L;
        for (var i = 0; i < Count; i++)
        {
            _offset[i] = total;
            _length[i] = Math.Min(frames[i].Length, SimulatedNic.BufferSize - SimulatedNic.Headroom);
            total += (_length[i] + Alignment - 1) & ~(Alignment - 1);
        }

        _frames = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(total, Alignment), Alignment);
        _status = new RxStatus[Count];
        _hash = new uint[Count];
        var rss = new Rss(queues);
        var lists = Enumerable.Range(0, queues).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < Count; i++)
        {
            var frame = frames[i];
            var length = _length[i];
            frame.AsSpan(0, length).CopyTo(new Span<byte>(_frames + _offset[i], length));
            _status[i] = SimulatedNic.ChecksumOffload(frame.AsSpan(0, length));
            _hash[i] = rss.Hash(frame.AsSpan(0, length));
            lists[rss.Queue(_hash[i])].Add(i);
        }

        _byQueue = [.. lists.Select(l => l.ToArray())];
    }

    /// <summary>Distinct frames.</summary>
    public int Count { get; }

    /// <summary>Where the frames came from.</summary>
    public string Description { get; }

    /// <summary>Generates <paramref name="count"/> frames from <paramref name="mix"/> and <paramref name="seed"/>.</summary>
    public static TrafficPool Generate(TrafficMix mix, ulong seed, int count, int queues)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var generator = new TrafficGenerator(mix, seed);
        var buffer = new byte[TrafficGenerator.MaxFrame];
        var frames = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            var n = generator.Next(buffer);
            frames.Add(buffer.AsSpan(0, n).ToArray());
        }

        return new TrafficPool(frames, queues, $"generated: {mix}, seed {seed}");
    }

    /// <summary>Replays captured frames.</summary>
    public static TrafficPool FromCapture(IReadOnlyList<CapturedFrame> frames, int queues, string description) =>
        new([.. frames.Select(f => f.Data)], queues, description);

    /// <summary>The frames RSS sends to <paramref name="queue"/>, by index.</summary>
    public ReadOnlySpan<int> QueueFrames(int queue) => _byQueue[queue];

    /// <summary>How many of the first <paramref name="packets"/> frames of the cyclic replay go to <paramref name="queue"/>.</summary>
    public long PacketsFor(int queue, long packets)
    {
        var list = _byQueue[queue];
        var full = packets / Count;
        var rest = (int)(packets % Count);
        var partial = 0;
        foreach (var i in list)
        {
            if (i < rest)
                partial++;
        }

        return (full * list.Length) + partial;
    }

    /// <summary>Frame <paramref name="index"/>'s bytes.</summary>
    public ReadOnlySpan<byte> Frame(int index) => new(_frames + _offset[index], _length[index]);

    /// <summary>The hardware checksum verdict of frame <paramref name="index"/>.</summary>
    public RxStatus Status(int index) => _status[index];

    /// <summary>The RSS hash of frame <paramref name="index"/>.</summary>
    public uint Hash(int index) => _hash[index];

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        NativeMemory.AlignedFree(_frames);
        GC.SuppressFinalize(this);
    }
}
