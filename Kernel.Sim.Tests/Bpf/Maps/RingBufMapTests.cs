using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Tests.Bpf.Maps;

public sealed unsafe class RingBufMapTests
{
    private static RingBufMap Ring(MapTestKernel k, int size = 4096) => (RingBufMap)k.Create(BpfMapType.Ringbuf, 0, 0, size, "rb");

    [TestCase(0)]
    [TestCase(3 * 4096)]
    [TestCase(2048)]
    public void Size_must_be_a_power_of_2_page_multiple(int size)
    {
        using var k = new MapTestKernel();
        var e = Assert.Throws<MapCreateException>(() => Ring(k, size));
        Assert.That(e!.Errno, Is.EqualTo(-BpfErrno.EINVAL));
    }

    [Test]
    public void Reserve_writes_linuxs_8_byte_header_and_aligns_records_to_8()
    {
        using var k = new MapTestKernel();
        var ring = Ring(k, 8192);
        var a = ring.Reserve(5);
        var b = ring.Reserve(16);
        Assert.That((ulong)a % 8, Is.Zero);
        Assert.That((ulong)b - (ulong)a, Is.EqualTo(16), "8-byte header + 5 bytes rounded up to 8");
        var header = (uint*)(a - 8);
        Assert.That(header[0], Is.EqualTo(5u | RingBufMap.BusyBit));
        // pg_off: pages from the ring's start (3 control pages precede the data) to the header.
        Assert.That(header[1], Is.EqualTo(3));
        Assert.That(ring.ProducerPosition, Is.EqualTo(16 + 24));
        ring.Commit(a, 0, discard: false);
        Assert.That(header[0], Is.EqualTo(5));
        ring.Commit(b, 0, discard: true);
        Assert.That(*(uint*)(b - 8), Is.EqualTo(16u | RingBufMap.DiscardBit));
    }

    [Test]
    public void Consumer_gets_submitted_records_in_order_skips_discarded_and_stops_at_a_busy_one()
    {
        using var k = new MapTestKernel();
        var ring = Ring(k);
        var first = ring.Reserve(4);
        var second = ring.Reserve(4);
        var third = ring.Reserve(4);
        *(uint*)first = 1;
        *(uint*)second = 2;
        *(uint*)third = 3;
        ring.Commit(first, 0, false);
        ring.Commit(third, 0, false);
        var seen = new List<uint>();
        Assert.That(ring.Consume(r => seen.Add(BitConverter.ToUInt32(r))), Is.EqualTo(1));
        Assert.That(seen, Is.EqualTo(new uint[] { 1 }));
        ring.Commit(second, 0, discard: true);
        Assert.That(ring.Consume(r => seen.Add(BitConverter.ToUInt32(r))), Is.EqualTo(1));
        Assert.That(seen, Is.EqualTo(new uint[] { 1, 3 }));
        Assert.That(ring.AvailableData, Is.Zero);
    }

    [Test]
    public void A_full_ring_refuses_reservations_and_counts_drops_until_consumed()
    {
        using var k = new MapTestKernel();
        var ring = Ring(k);
        var accepted = 0;
        // 120 bytes + header = 128 per record: 4096/128 = 32, but producer - consumer must stay below the size.
        for (var i = 0; i < 40; i++)
        {
            var p = ring.Reserve(120);
            if (p == null)
                continue;
            accepted++;
            ring.Commit(p, 0, false);
        }

        Assert.That(accepted, Is.EqualTo(31));
        Assert.That(ring.Dropped, Is.EqualTo(9));
        Assert.That(ring.Reserve(5000) == null, Is.True, "larger than the ring");
        Assert.That(ring.Dropped, Is.EqualTo(10));
        Assert.That(ring.Consume(_ => { }), Is.EqualTo(31));
        Assert.That(ring.Reserve(120) != null, Is.True);
    }

    [Test]
    public void An_uncommitted_record_holds_back_the_producer_even_after_consumption()
    {
        using var k = new MapTestKernel();
        var ring = Ring(k);
        var stuck = ring.Reserve(8);
        for (var i = 0; i < 100; i++)
        {
            var p = ring.Reserve(100);
            if (p != null)
                ring.Commit(p, 0, false);
            ring.Consume(_ => { });
        }

        // The consumer cannot pass the busy record, so the ring fills behind it.
        Assert.That(ring.Dropped, Is.GreaterThan(0));
        ring.Commit(stuck, 0, false);
        Assert.That(ring.Consume(_ => { }), Is.GreaterThan(0));
    }

    [Test]
    public void Records_that_wrap_around_read_back_contiguously()
    {
        using var k = new MapTestKernel();
        var ring = Ring(k);
        var expected = new List<byte[]>();
        var got = new List<byte[]>();
        for (var i = 0; i < 200; i++)
        {
            var size = 24 + ((i * 37) % 300);
            var p = ring.Reserve((ulong)size);
            Assert.That(p != null, Is.True);
            var data = Enumerable.Range(0, size).Select(j => (byte)(i + j)).ToArray();
            data.CopyTo(new Span<byte>(p, size));
            ring.Commit(p, 0, false);
            expected.Add(data);
            ring.Consume(r => got.Add(r.ToArray()));
        }

        Assert.That(ring.ProducerPosition, Is.GreaterThan(4096 * 8), "the ring wrapped several times");
        Assert.That(got, Is.EqualTo(expected));
    }

    [Test]
    public void Output_checks_flags_and_reports_eagain_when_full()
    {
        using var k = new MapTestKernel();
        var ring = Ring(k);
        var data = stackalloc byte[16];
        Assert.That(ring.Output(data, 16, 4), Is.EqualTo(-BpfErrno.EINVAL));
        Assert.That(ring.Output(data, 16, RingBufMap.BPF_RB_FORCE_WAKEUP), Is.Zero);
        Assert.That(ring.Wakeups, Is.EqualTo(1));
        Assert.That(ring.Output(data, 4096, 0), Is.EqualTo(-BpfErrno.EAGAIN));
    }
}
