using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Calls;

/// <summary>The packet path's handler shape, <c>int func(skb, dev, pt, orig_dev)</c>, as one value-tuple argument.</summary>
public sealed class PacketSignatureTests
{
    [Test]
    public void FourArgumentHandlersWorkThroughEveryPrimitive()
    {
        var args = ((nint)0x1000, (nint)0x2000, (nint)0x3000, (nint)0x4000);
        var target = CallTarget<(nint, nint, nint, nint)>.Of<SumHandler>();
        var site = new IndirectCallSite<(nint, nint, nint, nint)>("deliver_skb+0x3e", Mitigation.Retpoline);
        var guard = new IndirectCallGuard<(nint, nint, nint, nint), SumHandler>("__netif_receive_skb_core+0x5d1", Mitigation.Retpoline);
        var call = StaticCall<(nint, nint, nint, nint)>.Define<SumHandler>("ptype_func");
        Assert.That(site.Call(target, args), Is.EqualTo(0xa000));
        Assert.That(guard.Call(target, args), Is.EqualTo(0xa000));
        Assert.That(guard.Hits(0), Is.EqualTo(1));
        Assert.That(call.Call(args), Is.EqualTo(0xa000));
    }

    [Test]
    public unsafe void HandlerFromANativePointerIsCalledIndirectly()
    {
        var site = new IndirectCallSite<(nint, nint, nint, nint)>("deliver_skb+0x3e", Mitigation.None);
        delegate* managed<(nint, nint, nint, nint), int> func = &SumHandler.Invoke;
        Assert.That(site.Call((nint)func, KernelText.AddressOf("ip_rcv"), (1, 2, 3, 4)), Is.EqualTo(10));
    }

    private readonly struct SumHandler : ICallTarget<(nint Skb, nint Dev, nint Pt, nint OrigDev)>
    {
        public static int Invoke((nint Skb, nint Dev, nint Pt, nint OrigDev) args) => (int)(args.Skb + args.Dev + args.Pt + args.OrigDev);
    }
}
