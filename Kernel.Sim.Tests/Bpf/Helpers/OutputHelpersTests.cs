using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Tests.Bpf.Maps;

namespace Kernel.Sim.Tests.Bpf.Helpers;

public sealed class OutputHelpersTests
{
    private static string ReserveThen(int fd, int commitHelper) => $"""
        ld_pseudo r1, 1, {fd}
        r2 = 8
        r3 = 0
        call 131
        if r0 == 0 goto fail
        r1 = 0x1234
        *(u64 *)(r0 + 0) = r1
        r1 = r0
        r2 = 0
        call {commitHelper}
        r0 = 1
        exit
        fail:
        r0 = 0
        exit
        """;

    [Test]
    public void Reserve_and_submit_from_a_program_reach_the_consumer()
    {
        using var k = new MapTestKernel();
        var ring = (RingBufMap)k.Create(BpfMapType.Ringbuf, 0, 0, 4096);
        var program = k.Load(ReserveThen(ring.Fd, 132));
        Assert.That(MapTestKernel.Run(program), Is.EqualTo(1));
        var records = new List<ulong>();
        ring.Consume(r => records.Add(BitConverter.ToUInt64(r)));
        Assert.That(records, Is.EqualTo(new ulong[] { 0x1234 }));
    }

    [Test]
    public void Discarded_records_never_reach_the_consumer_and_a_full_ring_gives_null()
    {
        using var k = new MapTestKernel();
        var ring = (RingBufMap)k.Create(BpfMapType.Ringbuf, 0, 0, 4096);
        var discard = k.Load(ReserveThen(ring.Fd, 133));
        var submit = k.Load(ReserveThen(ring.Fd, 132));
        Assert.That(MapTestKernel.Run(discard), Is.EqualTo(1));
        Assert.That(ring.Consume(_ => { }), Is.Zero);
        // 16 bytes per record: 255 fit in 4096 bytes, the 256th does not.
        var accepted = Enumerable.Range(0, 300).Sum(_ => (int)MapTestKernel.Run(submit));
        Assert.That(accepted, Is.EqualTo(255));
        Assert.That(ring.Dropped, Is.EqualTo(45));
    }

    [Test]
    public void Ringbuf_output_copies_program_data()
    {
        using var k = new MapTestKernel();
        var ring = (RingBufMap)k.Create(BpfMapType.Ringbuf, 0, 0, 4096);
        var program = k.Load($"""
            r2 = r1
            ld_pseudo r1, 1, {ring.Fd}
            r3 = 6
            r4 = 0
            call 130
            exit
            """);
        Assert.That(MapTestKernel.Run(program, [1, 2, 3, 4, 5, 6, 7, 8]), Is.Zero);
        var records = new List<byte[]>();
        ring.Consume(r => records.Add(r.ToArray()));
        Assert.That(records.Single(), Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6 }));
    }

    [Test]
    public void Perf_event_output_from_a_program_lands_in_the_current_cpus_buffer()
    {
        using var k = new MapTestKernel(cpus: 2);
        var map = (PerfEventArrayMap)k.Create(BpfMapType.PerfEventArray, 4, 4, 2);
        var buffer = map.OpenBuffer(1, cpu: 1);
        var program = k.Load($"""
            r4 = r1
            ld_pseudo r2, 1, {map.Fd}
            r3 = 0xffffffff ll
            r5 = 4
            call 25
            exit
            """, context: k.Bpf.CreateHelperContext(1));
        Assert.That(MapTestKernel.Run(program, [9, 8, 7, 6, 0, 0, 0, 0]), Is.Zero);
        var samples = new List<byte[]>();
        buffer.Consume(s => samples.Add(s.ToArray()));
        Assert.That(samples.Single()[..4], Is.EqualTo(new byte[] { 9, 8, 7, 6 }));
        var other = k.Load($"""
            r4 = r1
            ld_pseudo r2, 1, {map.Fd}
            r3 = 0xffffffff ll
            r5 = 4
            call 25
            exit
            """, context: k.Bpf.CreateHelperContext(0));
        Assert.That((long)MapTestKernel.Run(other), Is.EqualTo(-BpfErrno.ENOENT), "CPU 0 has no buffer open");
    }
}
