using Kernel.Sim.Tracing;

namespace Kernel.Sim.Tests.Tracing;

public sealed class TraceRingBufferTests
{
    private static readonly byte[] Payload = new byte[40]; // 24 + 40 = 64 bytes per entry: 16 fit in 1 KiB

    [Test]
    public void OverwriteKeepsTheNewestAndCountsOverrun()
    {
        var buffer = new TraceRingBuffer(1, sizeKb: 1);
        for (var i = 0; i < 40; i++)
            Assert.That(buffer.Write(0, TraceEntryType.Function, 0, 0, 1, i, Payload), Is.True);
        var stats = buffer.Stats(0);
        Assert.That(stats.Entries + stats.Overrun, Is.EqualTo(40));
        Assert.That(stats.Entries, Is.EqualTo(16));
        Assert.That(buffer.EntriesWritten, Is.EqualTo(40));
        Assert.That(buffer.Snapshot(0).Select(r => r.TimestampNs), Is.EqualTo(Enumerable.Range(24, 16).Select(i => (long)i)));
    }

    [Test]
    public void DiscardKeepsTheOldestAndCountsDrops()
    {
        var buffer = new TraceRingBuffer(1, sizeKb: 1) { Overwrite = false };
        var written = Enumerable.Range(0, 40).Count(i => buffer.Write(0, TraceEntryType.Function, 0, 0, 1, i, Payload));
        var stats = buffer.Stats(0);
        Assert.That(written, Is.EqualTo(16));
        Assert.That(stats.DroppedEvents, Is.EqualTo(24));
        Assert.That(stats.Overrun, Is.EqualTo(0));
        Assert.That(buffer.EntriesWritten, Is.EqualTo(16));
        Assert.That(buffer.Snapshot(0).Select(r => r.TimestampNs), Is.EqualTo(Enumerable.Range(0, 16).Select(i => (long)i)));
    }

    [Test]
    public void VariableSizesWrapCorrectly()
    {
        var buffer = new TraceRingBuffer(1, sizeKb: 1);
        var last = new List<long>();
        for (var i = 0; i < 500; i++)
        {
            var payload = new byte[8 + i % 7 * 24];
            payload[0] = (byte)i;
            buffer.Write(0, TraceEntryType.ProbeEvent, 0, 0, 1, i, payload);
        }

        var records = buffer.Snapshot(0);
        Assert.That(records.Select(r => r.TimestampNs), Is.Ordered);
        Assert.That(records[^1].TimestampNs, Is.EqualTo(499));
        Assert.That(records.All(r => r.Payload[0] == (byte)r.TimestampNs), Is.True);
        Assert.That(buffer.Stats(0).Entries + buffer.Stats(0).Overrun, Is.EqualTo(500));
    }

    [Test]
    public void ConsumingReadsOldestFirstAndReportsLostEntries()
    {
        var buffer = new TraceRingBuffer(1, sizeKb: 1);
        for (var i = 0; i < 20; i++)
            buffer.Write(0, TraceEntryType.Function, 0, 0, 1, i, Payload);
        Assert.That(buffer.TryConsume(0, out var first, out var lost), Is.True);
        Assert.That(lost, Is.EqualTo(4));
        Assert.That(first!.TimestampNs, Is.EqualTo(4));
        Assert.That(buffer.TryConsume(0, out _, out lost), Is.True);
        Assert.That(lost, Is.EqualTo(0));
        Assert.That(buffer.Stats(0).ReadEvents, Is.EqualTo(2));
    }

    [Test]
    public void ResetEmptiesAndZeroesCounters()
    {
        var buffer = new TraceRingBuffer(2, sizeKb: 1);
        for (var i = 0; i < 20; i++)
            buffer.Write(i % 2, TraceEntryType.Function, 0, 0, 1, i, Payload);
        buffer.Reset();
        Assert.That(buffer.Entries, Is.EqualTo(0));
        Assert.That(buffer.EntriesWritten, Is.EqualTo(0));
    }
}
