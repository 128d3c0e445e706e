using System.Buffers.Binary;
using Kernel.Sim.Net;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Net;

public sealed class PcapFileTests
{
    [Test]
    public void GeneratedTrafficRoundTripsThroughPcapAndRunsTheSame()
    {
        var generator = new TrafficGenerator(TrafficMix.Parse("ipv4=60,ipv6=30,arp=5,other=5,bad=5"), 9);
        var buffer = new byte[TrafficGenerator.MaxFrame];
        var frames = Enumerable.Range(0, 300).Select(i => new CapturedFrame(1_700_000_000_000_000_000L + (i * 1000L), buffer[..generator.Next(buffer)], 0)).ToList();
        frames = [.. frames.Select(f => f with { OriginalLength = f.Data.Length })];
        using var stream = new MemoryStream();
        PcapFile.Write(stream, frames);
        var read = PcapFile.Read(stream.ToArray(), "roundtrip.pcap");
        Assert.That(read.Select(f => f.Data), Is.EqualTo(frames.Select(f => f.Data)));
        Assert.That(read.Select(f => f.TimestampNs), Is.EqualTo(frames.Select(f => f.TimestampNs)));

        using var original = TrafficPool.FromCapture(frames, 1, "original");
        using var replayed = TrafficPool.FromCapture(read, 1, "replayed");
        using var a = new NetTestBed();
        using var b = new NetTestBed();
        a.Kernel.On(0, () => PacketPathRunner.ReplayQueue(a.Stack, original, 0, 300));
        b.Kernel.On(0, () => PacketPathRunner.ReplayQueue(b.Stack, replayed, 0, 300));
        foreach (var counter in Enum.GetValues<NetCounter>())
            Assert.That(b[counter], Is.EqualTo(a[counter]), counter.ToString());
        Assert.That(a[NetCounter.RxPackets], Is.EqualTo(300));
    }

    [Test]
    public void ReadsPcapngInEitherByteOrderWithTimestampResolution()
    {
        var frame = NetTestBed.Frame("ipv4=1,udp=1");
        foreach (var little in new[] { true, false })
        {
            var file = Pcapng(frame, little, tsresol: 9, timestamp: 1_500_000_000_123_456_789UL);
            var read = PcapFile.Read(file, "x.pcapng");
            Assert.That(read, Has.Count.EqualTo(1));
            Assert.That(read[0].Data, Is.EqualTo(frame));
            Assert.That(read[0].TimestampNs, Is.EqualTo(1_500_000_000_123_456_789L));
        }

        var micro = PcapFile.Read(Pcapng(frame, true, tsresol: null, timestamp: 5_000_001UL), "micro.pcapng");
        Assert.That(micro[0].TimestampNs, Is.EqualTo(5_000_001_000L));
    }

    [TestCase(new byte[] { 1, 2, 3 }, "too short")]
    [TestCase(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, "offset 0: magic 0x04030201 is neither pcap nor pcapng")]
    public void BadFilesNameTheProblem(byte[] bytes, string message)
    {
        var e = Assert.Throws<PcapFormatException>(() => PcapFile.Read(bytes, "bad.pcap"));
        Assert.That(e!.Message, Does.StartWith("bad.pcap: ").And.Contain(message));
    }

    [Test]
    public void TruncatedRecordsAndNonEthernetLinksAreRejectedWithTheirOffset()
    {
        using var stream = new MemoryStream();
        PcapFile.Write(stream, [new CapturedFrame(0, new byte[60], 60)]);
        var bytes = stream.ToArray();
        var e = Assert.Throws<PcapFormatException>(() => PcapFile.Read(bytes.AsSpan(0, bytes.Length - 10), "cut.pcap"));
        Assert.That(e!.Message, Is.EqualTo("cut.pcap: offset 32: captured length 60 runs past the end of the file"));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), 113);
        e = Assert.Throws<PcapFormatException>(() => PcapFile.Read(bytes, "sll.pcap"));
        Assert.That(e!.Message, Is.EqualTo("sll.pcap: offset 20: link type 113 is not Ethernet (1)"));
    }

    // SHB + IDB (with if_tsresol when given) + EPB.
    private static byte[] Pcapng(byte[] frame, bool little, int? tsresol, ulong timestamp)
    {
        var blocks = new List<byte>();
        void Block(uint type, byte[] body)
        {
            var total = 12 + body.Length;
            blocks.AddRange(U32(type));
            blocks.AddRange(U32((uint)total));
            blocks.AddRange(body);
            blocks.AddRange(U32((uint)total));
        }

        byte[] U32(uint v)
        {
            var b = new byte[4];
            if (little)
                BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            else
                BinaryPrimitives.WriteUInt32BigEndian(b, v);
            return b;
        }

        byte[] U16(ushort v)
        {
            var b = new byte[2];
            if (little)
                BinaryPrimitives.WriteUInt16LittleEndian(b, v);
            else
                BinaryPrimitives.WriteUInt16BigEndian(b, v);
            return b;
        }

        Block(0x0A0D0D0A, [.. U32(0x1A2B3C4D), .. U16(1), .. U16(0), .. Enumerable.Repeat((byte)0xFF, 8)]);
        var idb = new List<byte>([.. U16(1), .. U16(0), .. U32(65535)]);
        if (tsresol is { } r)
            idb.AddRange([.. U16(9), .. U16(1), (byte)r, 0, 0, 0, .. U16(0), .. U16(0)]);
        Block(1, [.. idb]);
        var padded = frame.Concat(new byte[(4 - (frame.Length % 4)) % 4]).ToArray();
        Block(6, [.. U32(0), .. U32((uint)(timestamp >> 32)), .. U32((uint)timestamp), .. U32((uint)frame.Length), .. U32((uint)frame.Length), .. padded]);
        return [.. blocks];
    }
}
