using System.Buffers.Binary;

namespace Kernel.Sim.Net;

/// <summary>
/// A deterministic source of Ethernet frames (without FCS) following a <see cref="TrafficMix"/>: the same seed and mix
/// give the same frames. Frames go to the host's addresses (<see cref="HostIpv4"/>, <see cref="HostIpv6"/>,
/// <see cref="HostMac"/>); UDP and TCP go to ports the stack listens on unless sent to a closed port. Generating a
/// frame allocates nothing.
/// </summary>
public sealed class TrafficGenerator
{
    /// <summary>The receiving NIC's MAC address.</summary>
    public static readonly byte[] HostMac = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];

    /// <summary>The host's IPv4 address, 10.0.0.1.</summary>
    public static readonly byte[] HostIpv4 = [10, 0, 0, 1];

    /// <summary>The host's IPv6 address, fd00::1.</summary>
    public static readonly byte[] HostIpv6 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

    /// <summary>First port with a listening socket (UDP and TCP); <see cref="ListeningPorts"/> follow it.</summary>
    public const ushort FirstListeningPort = 5001;

    /// <summary>Number of listening ports.</summary>
    public const int ListeningPorts = 999;

    /// <summary>A port nobody listens on (discard).</summary>
    public const ushort ClosedPort = 9;

    /// <summary>The ethertype of "other" frames: LLDP, which no protocol handler takes.</summary>
    public const ushort OtherEthertype = 0x88CC;

    /// <summary>Largest frame the generator writes.</summary>
    public const int MaxFrame = 1514;

    private static readonly int[] ImixSizes = [64, 64, 64, 64, 64, 64, 64, 576, 576, 576, 576, 1500];

    private readonly TrafficMix _mix;
    private readonly uint _seedLow;
    private ulong _state;
    private long _sequence;

    public TrafficGenerator(TrafficMix mix, ulong seed)
    {
        _mix = mix ?? throw new ArgumentNullException(nameof(mix));
        _state = seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;
        _seedLow = (uint)seed;
        if (_state == 0)
            _state = 1;
    }

    /// <summary>The mix.</summary>
    public TrafficMix Mix => _mix;

    /// <summary>Writes the next frame into <paramref name="frame"/> (at least <see cref="MaxFrame"/> bytes) and returns its length.</summary>
    public int Next(Span<byte> frame)
    {
        if (frame.Length < MaxFrame)
            throw new ArgumentException($"a frame buffer needs {MaxFrame} bytes", nameof(frame));
        _sequence++;
        var m = _mix;
        var size = m.Imix ? ImixSizes[Below(ImixSizes.Length)] : m.MinSize + Below(m.MaxSize - m.MinSize + 1);
        var flow = Below(m.Flows);
        var pick = Below(m.Ipv4 + m.Ipv6 + m.Arp + m.Other);
        if (pick < m.Ipv4)
            return Ipv4(frame, size, flow);
        pick -= m.Ipv4;
        if (pick < m.Ipv6)
            return Ipv6(frame, size, flow);
        pick -= m.Ipv6;
        return pick < m.Arp ? Arp(frame, flow) : Other(frame, size, flow);
    }

    private int Ipv4(Span<byte> frame, int size, int flow)
    {
        var proto = Protocol();
        var headerEnd = NetConst.EthHlen + 20;
        size = Math.Max(size, headerEnd + MinL4(proto));
        Ethernet(frame, flow, NetConst.EthPIp);
        var ip = frame.Slice(NetConst.EthHlen, 20);
        ip[0] = 0x45;
        ip[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(size - NetConst.EthHlen));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)_sequence);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000); // DF
        ip[8] = 64;
        ip[9] = proto;
        ip[10] = ip[11] = 0;
        SourceV4(ip[12..], flow);
        HostIpv4.CopyTo(ip[16..]);
        var l4 = frame[headerEnd..size];
        Payload(l4);
        Transport(proto, l4, flow, InetChecksum.PseudoV4(ip[12..], ip[16..], proto, l4.Length), v6: false);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InetChecksum.Compute(ip));
        if (Chance(m: _mix.BadChecksumPercent))
            ip[11] ^= 0x5a;
        else if (Chance(_mix.MalformedPercent))
            Malform(ip, size);
        return size;
    }

    // One of ip_rcv_core's header errors: wrong version, IHL below 5, or a total length beyond the frame. The
    // checksum is recomputed so only the intended check fails.
    private void Malform(Span<byte> ip, int size)
    {
        switch (Below(3))
        {
            case 0:
                ip[0] = 0x65;
                break;
            case 1:
                ip[0] = 0x44;
                break;
            default:
                BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(size - NetConst.EthHlen + 100));
                break;
        }

        ip[10] = ip[11] = 0;
        var ihl = Math.Max(5, ip[0] & 0xF) * 4;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InetChecksum.Compute(ip[..Math.Min(ihl, ip.Length)]));
    }

    private int Ipv6(Span<byte> frame, int size, int flow)
    {
        var proto = Protocol();
        var next = proto == NetConst.IpProtoIcmp ? NetConst.IpProtoIcmpv6 : proto;
        var headerEnd = NetConst.EthHlen + 40;
        size = Math.Max(size, headerEnd + MinL4(proto));
        Ethernet(frame, flow, NetConst.EthPIpv6);
        var ip = frame.Slice(NetConst.EthHlen, 40);
        BinaryPrimitives.WriteUInt32BigEndian(ip, 0x6000_0000u | (uint)(flow & 0xFFFFF));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(size - headerEnd));
        ip[6] = next;
        ip[7] = 64;
        SourceV6(ip[8..], flow);
        HostIpv6.CopyTo(ip[24..]);
        var l4 = frame[headerEnd..size];
        Payload(l4);
        Transport(proto, l4, flow, InetChecksum.PseudoV6(ip[8..], ip[24..], next, l4.Length), v6: true);
        if (Chance(_mix.BadChecksumPercent))
            l4[proto == NetConst.IpProtoTcp ? 17 : proto == NetConst.IpProtoUdp ? 7 : 3] ^= 0x5a;
        else if (Chance(_mix.MalformedPercent))
        {
            if (Below(2) == 0)
                ip[0] = 0x40; // version 4 in an IPv6 frame
            else
                BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(size - headerEnd + 100));
        }

        return size;
    }

    private int Arp(Span<byte> frame, int flow)
    {
        const int size = 60; // 42 bytes of ARP padded to the Ethernet minimum
        frame[..size].Clear();
        Ethernet(frame, flow, NetConst.EthPArp);
        frame[..6].Fill(0xff);
        var arp = frame[NetConst.EthHlen..];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1); // ARPHRD_ETHER
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], NetConst.EthPIp);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], (ushort)(Below(4) == 0 ? 2 : 1)); // reply : request
        frame.Slice(6, 6).CopyTo(arp[8..]);
        SourceV4(arp[14..], flow);
        HostIpv4.CopyTo(arp[24..]);
        return size;
    }

    private int Other(Span<byte> frame, int size, int flow)
    {
        size = Math.Max(size, 60);
        Ethernet(frame, flow, OtherEthertype);
        Payload(frame[NetConst.EthHlen..size]);
        return size;
    }

    private void Transport(byte proto, Span<byte> l4, int flow, uint pseudo, bool v6)
    {
        var port = Chance(_mix.ClosedPortPercent) ? ClosedPort : (ushort)(FirstListeningPort + (flow % ListeningPorts));
        var sport = (ushort)(32768 + ((flow * 7919) & 0x3FFF));
        switch (proto)
        {
            case NetConst.IpProtoUdp:
                BinaryPrimitives.WriteUInt16BigEndian(l4, sport);
                BinaryPrimitives.WriteUInt16BigEndian(l4[2..], port);
                BinaryPrimitives.WriteUInt16BigEndian(l4[4..], (ushort)l4.Length);
                l4[6] = l4[7] = 0;
                var udp = InetChecksum.Fold(InetChecksum.Partial(l4, pseudo));
                BinaryPrimitives.WriteUInt16BigEndian(l4[6..], udp == 0 ? (ushort)0xFFFF : udp);
                break;
            case NetConst.IpProtoTcp:
                BinaryPrimitives.WriteUInt16BigEndian(l4, sport);
                BinaryPrimitives.WriteUInt16BigEndian(l4[2..], port);
                BinaryPrimitives.WriteUInt32BigEndian(l4[4..], (uint)_sequence * 1448);
                BinaryPrimitives.WriteUInt32BigEndian(l4[8..], 1);
                l4[12] = 0x50; // doff 5
                l4[13] = 0x10; // ACK
                BinaryPrimitives.WriteUInt16BigEndian(l4[14..], 0xFFFF);
                l4[16] = l4[17] = l4[18] = l4[19] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(l4[16..], InetChecksum.Fold(InetChecksum.Partial(l4, pseudo)));
                break;
            default:
                l4[0] = v6 ? (byte)128 : (byte)8; // echo request
                l4[1] = 0;
                l4[2] = l4[3] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(l4[4..], (ushort)flow);
                BinaryPrimitives.WriteUInt16BigEndian(l4[6..], (ushort)_sequence);
                // ICMPv6 includes the pseudo-header; ICMPv4 does not.
                BinaryPrimitives.WriteUInt16BigEndian(l4[2..], InetChecksum.Fold(InetChecksum.Partial(l4, v6 ? pseudo : 0)));
                break;
        }
    }

    private static int MinL4(byte proto) => proto == NetConst.IpProtoTcp ? 20 : 8;

    private byte Protocol()
    {
        var pick = Below(_mix.Udp + _mix.Tcp + _mix.Icmp);
        return pick < _mix.Udp ? NetConst.IpProtoUdp : pick < _mix.Udp + _mix.Tcp ? NetConst.IpProtoTcp : NetConst.IpProtoIcmp;
    }

    private static void Ethernet(Span<byte> frame, int flow, ushort type)
    {
        HostMac.CopyTo(frame);
        frame[6] = 0x02;
        frame[7] = 0x10;
        BinaryPrimitives.WriteUInt32BigEndian(frame[8..], (uint)flow);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], type);
    }

    private void SourceV4(Span<byte> address, int flow)
    {
        address[0] = 10;
        address[1] = (byte)(1 + (flow >> 16));
        address[2] = (byte)(flow >> 8);
        address[3] = (byte)(flow + 2);
    }

    private void SourceV6(Span<byte> address, int flow)
    {
        HostIpv6.CopyTo(address);
        address[3] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(address[12..], (uint)flow + 2);
    }

    private void Payload(Span<byte> payload)
    {
        var x = (uint)_sequence ^ _seedLow;
        for (var i = 0; i < payload.Length; i++)
        {
            x = (x * 1103515245) + 12345;
            payload[i] = (byte)(x >> 16);
        }
    }

    private bool Chance(double m) => m > 0 && Below(1_000_000) < (int)(m * 10_000);

    // xorshift64* reduced by multiply-shift: deterministic, cheap, unbiased enough for traffic shares.
    private int Below(int n)
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        var r = (uint)((_state * 0x2545F4914F6CDD1DUL) >> 32);
        return (int)(((ulong)r * (uint)n) >> 32);
    }
}
