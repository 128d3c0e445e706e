using System.Buffers.Binary;

namespace Kernel.Sim.Net;

/// <summary>
/// Receive-side scaling as NICs do it: a Toeplitz hash over the IP addresses and, for TCP and UDP, the ports, with
/// the 40-byte default key of the Microsoft RSS specification (the key Linux's ethtool verification examples use),
/// and a 128-entry indirection table spreading hash values over the rx queues (<c>ethtool -x</c>).
/// </summary>
public sealed class Rss
{
    /// <summary>The default RSS key.</summary>
    public static readonly byte[] DefaultKey =
    [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
        0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
        0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    /// <summary>Indirection table size.</summary>
    public const int TableSize = 128;

    private readonly byte[] _key;
    private readonly int[] _table = new int[TableSize];

    public Rss(int queues, byte[]? key = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queues, 1);
        _key = key ?? DefaultKey;
        if (_key.Length != 40)
            throw new ArgumentException("an RSS key has 40 bytes", nameof(key));
        for (var i = 0; i < TableSize; i++)
            _table[i] = i % queues;
    }

    /// <summary>The Toeplitz hash of <paramref name="input"/> (at most 36 bytes: two IPv6 addresses and two ports).</summary>
    public uint Toeplitz(ReadOnlySpan<byte> input)
    {
        uint result = 0;
        var window = BinaryPrimitives.ReadUInt32BigEndian(_key);
        var next = 4;
        foreach (var b in input)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                if (((b >> bit) & 1) != 0)
                    result ^= window;
                window = (window << 1) | (uint)((_key[next] >> bit) & 1);
            }

            next++;
        }

        return result;
    }

    /// <summary>The hash of an Ethernet frame (0 for frames that are not IPv4/IPv6).</summary>
    public uint Hash(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < NetConst.EthHlen + 20)
            return 0;
        Span<byte> input = stackalloc byte[36];
        var type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        int n;
        byte proto;
        int l4;
        if (type == NetConst.EthPIp && (frame[NetConst.EthHlen] >> 4) == 4)
        {
            frame.Slice(NetConst.EthHlen + 12, 8).CopyTo(input);
            n = 8;
            proto = frame[NetConst.EthHlen + 9];
            l4 = NetConst.EthHlen + ((frame[NetConst.EthHlen] & 0xF) * 4);
            // Fragments hash on addresses only.
            if ((BinaryPrimitives.ReadUInt16BigEndian(frame[(NetConst.EthHlen + 6)..]) & 0x3FFF) != 0)
                proto = 0;
        }
        else if (type == NetConst.EthPIpv6 && frame.Length >= NetConst.EthHlen + 40)
        {
            frame.Slice(NetConst.EthHlen + 8, 32).CopyTo(input);
            n = 32;
            proto = frame[NetConst.EthHlen + 6];
            l4 = NetConst.EthHlen + 40;
        }
        else
        {
            return 0;
        }

        if (proto is NetConst.IpProtoTcp or NetConst.IpProtoUdp && frame.Length >= l4 + 4)
        {
            frame.Slice(l4, 4).CopyTo(input[n..]);
            n += 4;
        }

        return Toeplitz(input[..n]);
    }

    /// <summary>The rx queue a hash selects.</summary>
    public int Queue(uint hash) => _table[hash & (TableSize - 1)];
}
