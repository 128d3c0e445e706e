using System.Runtime.CompilerServices;

namespace Kernel.Sim.Calls;

// Stand-ins for the protocol handlers __netif_receive_skb_core reaches through pt_prev->func: the targets the
// dispatch model and the Dispatch benchmarks call. Each does a small dependent computation and is never inlined, so a
// direct call to it is a real call.

/// <summary>Model target named after <c>ip_rcv</c>.</summary>
public readonly struct IpRcv : ICallTarget<nint>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(nint args) => (int)((args * 3) + 1);
}

/// <summary>Model target named after <c>ipv6_rcv</c>.</summary>
public readonly struct Ipv6Rcv : ICallTarget<nint>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(nint args) => (int)((args * 3) + 2);
}

/// <summary>Model target named after <c>arp_rcv</c>.</summary>
public readonly struct ArpRcv : ICallTarget<nint>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(nint args) => (int)((args * 3) + 3);
}

/// <summary>Model target named after <c>packet_rcv</c>.</summary>
public readonly struct PacketRcv : ICallTarget<nint>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(nint args) => (int)((args * 3) + 4);
}

/// <summary>A guard candidate that no model call ever targets (named after <c>tpacket_rcv</c>): makes every guard call miss.</summary>
public readonly struct TpacketRcv : ICallTarget<nint>
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Invoke(nint args) => (int)((args * 3) + 5);
}
