using System.Globalization;

namespace Kernel.Sim.Net;

/// <summary>
/// What the traffic generator sends: shares of IPv4/IPv6/ARP/other frames, of UDP/TCP/ICMP within IP, frame sizes,
/// the share of frames with a bad checksum or a malformed header, the share sent to closed ports, and the number of
/// flows. Written on the command line as <c>ipv4=80,ipv6=15,arp=5,udp=70,tcp=25,icmp=5,size=imix,bad=1,flows=64</c>.
/// </summary>
public sealed record TrafficMix
{
    /// <summary>The default mix: 80% IPv4, 15% IPv6, 5% ARP; 70% UDP, 25% TCP, 5% ICMP; IMIX sizes; 64 flows.</summary>
    public static TrafficMix Default { get; } = new();

    public int Ipv4 { get; init; } = 80;
    public int Ipv6 { get; init; } = 15;
    public int Arp { get; init; } = 5;
    public int Other { get; init; }
    public int Udp { get; init; } = 70;
    public int Tcp { get; init; } = 25;
    public int Icmp { get; init; } = 5;

    /// <summary>Smallest frame (without FCS); 0 means the simple IMIX (64:576:1500 as 7:4:1).</summary>
    public int MinSize { get; init; }

    /// <summary>Largest frame (without FCS), at most 1514.</summary>
    public int MaxSize { get; init; }

    /// <summary>Per cent of IP frames with a wrong checksum (IPv4 header checksum, or the L4 checksum for IPv6).</summary>
    public double BadChecksumPercent { get; init; }

    /// <summary>Per cent of IP frames with a malformed header (bad version, short IHL, or a length beyond the frame).</summary>
    public double MalformedPercent { get; init; }

    /// <summary>Per cent of UDP/TCP frames sent to a port nobody listens on.</summary>
    public double ClosedPortPercent { get; init; }

    /// <summary>Distinct flows (5-tuples); RSS spreads them over the CPUs.</summary>
    public int Flows { get; init; } = 64;

    /// <summary>Whether the mix uses the simple IMIX sizes.</summary>
    public bool Imix => MinSize == 0;

    /// <summary>Parses <c>key=value,...</c>; keys not given keep their defaults (family shares not given become 0 when any is given).</summary>
    public static TrafficMix Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var mix = Default;
        var familyGiven = false;
        var protoGiven = false;
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = raw.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new FormatException($"mix item '{raw}': expected KEY=VALUE");
            var key = raw[..eq].ToLowerInvariant();
            var value = raw[(eq + 1)..];
            if (key is "ipv4" or "ipv6" or "arp" or "other" && !familyGiven)
            {
                familyGiven = true;
                mix = mix with { Ipv4 = 0, Ipv6 = 0, Arp = 0, Other = 0 };
            }

            if (key is "udp" or "tcp" or "icmp" && !protoGiven)
            {
                protoGiven = true;
                mix = mix with { Udp = 0, Tcp = 0, Icmp = 0 };
            }

            mix = key switch
            {
                "ipv4" => mix with { Ipv4 = Share(raw, value) },
                "ipv6" => mix with { Ipv6 = Share(raw, value) },
                "arp" => mix with { Arp = Share(raw, value) },
                "other" => mix with { Other = Share(raw, value) },
                "udp" => mix with { Udp = Share(raw, value) },
                "tcp" => mix with { Tcp = Share(raw, value) },
                "icmp" => mix with { Icmp = Share(raw, value) },
                "bad" => mix with { BadChecksumPercent = Percent(raw, value) },
                "malformed" => mix with { MalformedPercent = Percent(raw, value) },
                "closed" => mix with { ClosedPortPercent = Percent(raw, value) },
                "flows" => mix with { Flows = Number(raw, value, 1, 1 << 20) },
                "size" => ParseSize(mix, raw, value),
                _ => throw new FormatException($"mix item '{raw}': unknown key '{key}' (ipv4, ipv6, arp, other, udp, tcp, icmp, size, bad, malformed, closed, flows)"),
            };
        }

        if (mix.Ipv4 + mix.Ipv6 + mix.Arp + mix.Other == 0)
            throw new FormatException("mix: the ipv4/ipv6/arp/other shares add up to 0");
        if (mix.Ipv4 + mix.Ipv6 > 0 && mix.Udp + mix.Tcp + mix.Icmp == 0)
            throw new FormatException("mix: the udp/tcp/icmp shares add up to 0");
        return mix;
    }

    public override string ToString()
    {
        var size = Imix ? "imix" : MinSize == MaxSize ? $"{MinSize}" : $"{MinSize}-{MaxSize}";
        return string.Create(CultureInfo.InvariantCulture,
            $"ipv4={Ipv4},ipv6={Ipv6},arp={Arp},other={Other},udp={Udp},tcp={Tcp},icmp={Icmp},size={size},bad={BadChecksumPercent},malformed={MalformedPercent},closed={ClosedPortPercent},flows={Flows}");
    }

    private static TrafficMix ParseSize(TrafficMix mix, string raw, string value)
    {
        if (value.Equals("imix", StringComparison.OrdinalIgnoreCase))
            return mix with { MinSize = 0, MaxSize = 0 };
        var dash = value.IndexOf('-', StringComparison.Ordinal);
        var min = Number(raw, dash < 0 ? value : value[..dash], 60, 1514);
        var max = dash < 0 ? min : Number(raw, value[(dash + 1)..], 60, 1514);
        if (max < min)
            throw new FormatException($"mix item '{raw}': size range {min}-{max} is empty");
        return mix with { MinSize = min, MaxSize = max };
    }

    private static int Share(string raw, string value) => Number(raw, value, 0, 1_000_000);

    private static int Number(string raw, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
            throw new FormatException($"mix item '{raw}': expected an integer in {min}..{max}");
        return n;
    }

    private static double Percent(string raw, string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) || p < 0 || p > 100)
            throw new FormatException($"mix item '{raw}': expected a percentage in 0..100");
        return p;
    }
}
