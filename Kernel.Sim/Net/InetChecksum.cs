using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kernel.Sim.Net;

/// <summary>The Internet checksum (RFC 1071): ip_fast_csum, csum_partial and the TCP/UDP/ICMPv6 pseudo-headers.</summary>
public static class InetChecksum
{
    /// <summary>One's-complement sum of <paramref name="data"/> (big-endian 16-bit words), folded to 32 bits, plus <paramref name="initial"/>.</summary>
    public static uint Partial(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong sum = initial;
        var i = 0;
        // 8 bytes at a time: the sum of big-endian 16-bit words equals the byte-swapped sum of little-endian ones,
        // so add little-endian 32-bit halves and swap once at the end.
        ulong le = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            var w = MemoryMarshal.Read<ulong>(data[i..]);
            le += (w & 0xFFFF_FFFF) + (w >> 32);
        }

        for (; i + 2 <= data.Length; i += 2)
            le += MemoryMarshal.Read<ushort>(data[i..]);
        if (i < data.Length)
            le += data[i];
        while ((le >> 16) != 0)
            le = (le & 0xFFFF) + (le >> 16);
        sum += BinaryPrimitives.ReverseEndianness((ushort)le);
        while ((sum >> 32) != 0)
            sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        return (uint)sum;
    }

    /// <summary>Folds a 32-bit partial sum and complements it (csum_fold).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fold(uint sum)
    {
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>The checksum of <paramref name="data"/> (csum_fold of csum_partial): 0 when it includes a valid checksum field.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Fold(Partial(data));

    /// <summary>
    /// ip_fast_csum: the checksum of an IPv4 header of <paramref name="ihl"/> 32-bit words (5..15) as the header stores
    /// it (network order read as a little-endian u16, as the kernel's <c>__sum16</c>); 0 when the header is valid.
    /// Like the kernel's, it sums whole 32-bit words: the one's-complement sum is byte-order independent up to a final
    /// swap, so the words need no conversion.
    /// </summary>
    public static unsafe ushort IpFastCsum(byte* iph, int ihl)
    {
        ulong sum = 0;
        for (var i = 0; i < ihl; i++)
            sum += Unsafe.ReadUnaligned<uint>(iph + (i * 4));
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        return Fold((uint)sum);
    }

    /// <summary>The IPv4 pseudo-header sum (csum_tcpudp_nofold) for a segment of <paramref name="length"/> bytes.</summary>
    public static uint PseudoV4(ReadOnlySpan<byte> src, ReadOnlySpan<byte> dst, byte protocol, int length) =>
        Partial(dst[..4], Partial(src[..4])) + protocol + (uint)length;

    /// <summary>The IPv6 pseudo-header sum (csum_ipv6_magic) for a segment of <paramref name="length"/> bytes.</summary>
    public static uint PseudoV6(ReadOnlySpan<byte> src, ReadOnlySpan<byte> dst, byte nextHeader, int length)
    {
        ulong sum = (ulong)Partial(dst[..16], Partial(src[..16])) + nextHeader + (uint)length;
        while ((sum >> 32) != 0)
            sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        return (uint)sum;
    }
}
