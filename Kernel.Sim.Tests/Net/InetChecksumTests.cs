using System.Buffers.Binary;
using Kernel.Sim.Net;

namespace Kernel.Sim.Tests.Net;

public sealed class InetChecksumTests
{
    // ip_fast_csum over 32-bit words must agree with the 16-bit csum_partial reference on every header length.
    [TestCase(5)]
    [TestCase(6)]
    [TestCase(15)]
    public unsafe void IpFastCsumAgreesWithTheReferenceAndValidatesWhatItComputes(int ihl)
    {
        var random = new Random(ihl);
        var header = new byte[ihl * 4];
        for (var round = 0; round < 200; round++)
        {
            random.NextBytes(header);
            header[10] = header[11] = 0;
            fixed (byte* p = header)
            {
                var stored = InetChecksum.IpFastCsum(p, ihl);
                Assert.That(BinaryPrimitives.ReverseEndianness(stored), Is.EqualTo(InetChecksum.Compute(header)));
                // Stored as the kernel stores __sum16, the header becomes valid.
                BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(10), stored);
                Assert.That(InetChecksum.IpFastCsum(p, ihl), Is.Zero);
                Assert.That(InetChecksum.Compute(header), Is.Zero);
                header[random.Next(header.Length)] ^= (byte)(1 << random.Next(8));
                Assert.That(InetChecksum.IpFastCsum(p, ihl), Is.Not.Zero);
            }
        }
    }
}
