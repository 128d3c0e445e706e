using System.Text;
using Kernel.Sim.Calls;

namespace Kernel.Sim.Bench.Report;

/// <summary>The model's protocol-handler targets by their Linux names, and seeded traffic over them.</summary>
public static class ModelTargets
{
    /// <summary>ip_rcv, ipv6_rcv, arp_rcv, packet_rcv, and tpacket_rcv (which traffic never targets unless asked).</summary>
    public static IReadOnlyList<CallTarget<nint>> All { get; } =
    [
        CallTarget<nint>.Of<IpRcv>(), CallTarget<nint>.Of<Ipv6Rcv>(), CallTarget<nint>.Of<ArpRcv>(),
        CallTarget<nint>.Of<PacketRcv>(), CallTarget<nint>.Of<TpacketRcv>(),
    ];

    /// <summary>The Linux name of a model target (<c>Ipv6Rcv</c> → <c>ipv6_rcv</c>).</summary>
    public static string LinuxName(CallTarget<nint> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return LinuxName(target.Name);
    }

    /// <summary>The Linux name of a model target's type name (<c>Ipv6Rcv</c> → <c>ipv6_rcv</c>).</summary>
    public static string LinuxName(string typeName)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        var name = new StringBuilder();
        foreach (var c in typeName)
        {
            if (char.IsUpper(c) && name.Length > 0)
                name.Append('_');
            name.Append(char.ToLowerInvariant(c));
        }

        return name.ToString();
    }

    /// <summary>The target named <paramref name="linuxName"/> (<c>ip_rcv</c>...).</summary>
    public static CallTarget<nint> Find(string linuxName) =>
        All.FirstOrDefault(t => LinuxName(t) == linuxName)
        ?? throw new ArgumentException($"unknown target '{linuxName}' (have: {string.Join(", ", All.Select(LinuxName))})", nameof(linuxName));

    /// <summary>
    /// <paramref name="calls"/> targets drawn from <paramref name="mix"/> (<c>ip_rcv=80,ipv6_rcv=15,arp_rcv=5</c>),
    /// independently per call from <paramref name="seed"/>: the same arguments give the same sequence.
    /// </summary>
    public static CallTarget<nint>[] Traffic(string mix, int calls, int seed)
    {
        ArgumentException.ThrowIfNullOrEmpty(mix);
        var shares = mix.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(part =>
            {
                var kv = part.Split('=');
                if (kv.Length != 2 || !int.TryParse(kv[1], out var weight) || weight < 0)
                    throw new ArgumentException($"traffic mix '{mix}': '{part}' is not NAME=WEIGHT", nameof(mix));
                return (Target: Find(kv[0]), Weight: weight);
            })
            .ToArray();
        var total = shares.Sum(s => s.Weight);
        if (total == 0)
            throw new ArgumentException($"traffic mix '{mix}' has no weight", nameof(mix));
        var random = new Random(seed);
        var sequence = new CallTarget<nint>[calls];
        for (var i = 0; i < calls; i++)
        {
            var pick = random.Next(total);
            foreach (var (target, weight) in shares)
            {
                if (pick < weight)
                {
                    sequence[i] = target;
                    break;
                }

                pick -= weight;
            }
        }

        return sequence;
    }
}
