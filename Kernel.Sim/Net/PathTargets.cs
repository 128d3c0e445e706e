using System.Runtime.CompilerServices;
using Kernel.Sim.Calls;

namespace Kernel.Sim.Net;

// Each argument struct also carries the calling CPU's path state, as a kernel function reaches its per-CPU data
// through this_cpu_ptr (one gs-relative load) rather than a lookup: without it each target would read a thread-static,
// which on Linux is a __tls_get_addr call and a chain of dependent loads, about a tenth of a packet's time. A caller
// that does not set it (null) makes the target look the running CPU up.

/// <summary>The arguments of <c>packet_type-&gt;func</c>: <c>(skb, dev, pt, orig_dev)</c>.</summary>
public readonly record struct PtypeArgs(nint Skb, nint Dev, nint Pt, nint OrigDev)
{
    internal NetCpu? Cpu { get; init; }
}

/// <summary>The arguments of <c>napi_struct-&gt;poll</c>: <c>(napi, budget)</c>.</summary>
public readonly record struct NapiArgs(nint Napi, int Budget)
{
    internal NetCpu? Cpu { get; init; }
}

/// <summary>The argument of <c>dst-&gt;input(skb)</c> and <c>ipprot-&gt;handler(skb)</c>.</summary>
public readonly record struct SkbArgs(nint Skb)
{
    internal NetCpu? Cpu { get; init; }
}

/// <summary>The argument of an XDP program's <c>bpf_func(ctx)</c>: the <c>struct xdp_buff *</c>.</summary>
public readonly record struct XdpArgs(nint Xdp)
{
    internal NetCpu? Cpu { get; init; }
}

// The functions the path's indirect call sites reach. Each is a struct whose static Invoke is the function, so a guard
// or a patched static_call reaches it with a direct call; each forwards to the NetStack running on this thread (the
// state a kernel function finds through its arguments and per-CPU data): the calling CPU's state, which knows its stack.

/// <summary>ip_rcv as a call target.</summary>
public readonly struct IpRcvTarget : ICallTarget<PtypeArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(PtypeArgs a)
    {
        var c = a.Cpu ?? NetStack.RunningCpu;
        return c.Stack.IpRcvEntry(c, a);
    }
}

/// <summary>ipv6_rcv as a call target.</summary>
public readonly struct Ipv6RcvTarget : ICallTarget<PtypeArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(PtypeArgs a)
    {
        var c = a.Cpu ?? NetStack.RunningCpu;
        return c.Stack.Ipv6RcvEntry(c, a);
    }
}

/// <summary>arp_rcv as a call target.</summary>
public readonly struct ArpRcvTarget : ICallTarget<PtypeArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(PtypeArgs a)
    {
        var c = a.Cpu ?? NetStack.RunningCpu;
        return c.Stack.ArpRcvEntry(c, a);
    }
}

/// <summary>packet_rcv (AF_PACKET) as a call target.</summary>
public readonly struct PacketRcvTarget : ICallTarget<PtypeArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(PtypeArgs a)
    {
        var c = a.Cpu ?? NetStack.RunningCpu;
        return c.Stack.PacketRcvEntry(c, a);
    }
}

/// <summary>ip_local_deliver (dst-&gt;input of a local route).</summary>
public readonly struct IpLocalDeliverTarget : ICallTarget<SkbArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(SkbArgs skb)
    {
        var c = skb.Cpu ?? NetStack.RunningCpu;
        return c.Stack.IpLocalDeliverEntry(c, skb.Skb);
    }
}

/// <summary>ip_error (dst-&gt;input of an unreachable route).</summary>
public readonly struct IpErrorTarget : ICallTarget<SkbArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(SkbArgs skb)
    {
        var c = skb.Cpu ?? NetStack.RunningCpu;
        return c.Stack.IpErrorEntry(c, skb.Skb);
    }
}

/// <summary>ip6_input (dst-&gt;input of a local IPv6 route).</summary>
public readonly struct Ip6InputTarget : ICallTarget<SkbArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(SkbArgs skb)
    {
        var c = skb.Cpu ?? NetStack.RunningCpu;
        return c.Stack.Ip6InputEntry(c, skb.Skb);
    }
}

/// <summary>ip6_forward (dst-&gt;input of a non-local IPv6 route; forwarding is off).</summary>
public readonly struct Ip6ForwardTarget : ICallTarget<SkbArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(SkbArgs skb)
    {
        var c = skb.Cpu ?? NetStack.RunningCpu;
        return c.Stack.Ip6ForwardEntry(c, skb.Skb);
    }
}

/// <summary>tcp_v4_rcv.</summary>
public readonly struct TcpV4RcvTarget : ICallTarget<SkbArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(SkbArgs skb)
    {
        var c = skb.Cpu ?? NetStack.RunningCpu;
        return c.Stack.TcpV4RcvEntry(c, skb.Skb);
    }
}

/// <summary>udp_rcv.</summary>
public readonly struct UdpRcvTarget : ICallTarget<SkbArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(SkbArgs skb)
    {
        var c = skb.Cpu ?? NetStack.RunningCpu;
        return c.Stack.UdpRcvEntry(c, skb.Skb);
    }
}

/// <summary>icmp_rcv.</summary>
public readonly struct IcmpRcvTarget : ICallTarget<SkbArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(SkbArgs skb)
    {
        var c = skb.Cpu ?? NetStack.RunningCpu;
        return c.Stack.IcmpRcvEntry(c, skb.Skb);
    }
}

/// <summary>tcp_v6_rcv.</summary>
public readonly struct TcpV6RcvTarget : ICallTarget<SkbArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(SkbArgs skb)
    {
        var c = skb.Cpu ?? NetStack.RunningCpu;
        return c.Stack.TcpV6RcvEntry(c, skb.Skb);
    }
}

/// <summary>udpv6_rcv.</summary>
public readonly struct Udpv6RcvTarget : ICallTarget<SkbArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(SkbArgs skb)
    {
        var c = skb.Cpu ?? NetStack.RunningCpu;
        return c.Stack.Udpv6RcvEntry(c, skb.Skb);
    }
}

/// <summary>icmpv6_rcv.</summary>
public readonly struct Icmpv6RcvTarget : ICallTarget<SkbArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(SkbArgs skb)
    {
        var c = skb.Cpu ?? NetStack.RunningCpu;
        return c.Stack.Icmpv6RcvEntry(c, skb.Skb);
    }
}

/// <summary>The simnic driver's NAPI poll routine.</summary>
public readonly struct SimnicPollTarget : ICallTarget<NapiArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(NapiArgs a)
    {
        var c = a.Cpu ?? NetStack.RunningCpu;
        return c.Stack.SimnicPollEntry(c, a);
    }
}

/// <summary>The attached XDP program's <c>bpf_func</c> (ctx = struct xdp_buff *).</summary>
public readonly struct XdpProgTarget : ICallTarget<XdpArgs>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(XdpArgs xdp)
    {
        var c = xdp.Cpu ?? NetStack.RunningCpu;
        return c.Stack.XdpProgEntry(c, xdp.Xdp);
    }
}

/// <summary>Kernel names of the call targets (the descriptors are named after their C# types).</summary>
public static class PathTargetNames
{
    private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        [nameof(IpRcvTarget)] = "ip_rcv",
        [nameof(Ipv6RcvTarget)] = "ipv6_rcv",
        [nameof(ArpRcvTarget)] = "arp_rcv",
        [nameof(PacketRcvTarget)] = "packet_rcv",
        [nameof(IpLocalDeliverTarget)] = "ip_local_deliver",
        [nameof(IpErrorTarget)] = "ip_error",
        [nameof(Ip6InputTarget)] = "ip6_input",
        [nameof(Ip6ForwardTarget)] = "ip6_forward",
        [nameof(TcpV4RcvTarget)] = "tcp_v4_rcv",
        [nameof(UdpRcvTarget)] = "udp_rcv",
        [nameof(IcmpRcvTarget)] = "icmp_rcv",
        [nameof(TcpV6RcvTarget)] = "tcp_v6_rcv",
        [nameof(Udpv6RcvTarget)] = "udpv6_rcv",
        [nameof(Icmpv6RcvTarget)] = "icmpv6_rcv",
        [nameof(SimnicPollTarget)] = "simnic_poll",
        [nameof(XdpProgTarget)] = "bpf_prog_run_xdp:prog",
    };

    /// <summary>The kernel name of a target descriptor's name (unchanged when unknown).</summary>
    public static string Linux(string name) => Names.GetValueOrDefault(name, name);
}
