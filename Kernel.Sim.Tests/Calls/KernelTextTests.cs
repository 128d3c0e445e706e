using Kernel.Sim.Calls;

namespace Kernel.Sim.Tests.Calls;

public sealed class KernelTextTests
{
    [TestCase("ip_rcv")]
    [TestCase("__netif_receive_skb_core+0x5d1")]
    public void AddressesAreAlignedInsideKernelText(string name)
    {
        var address = KernelText.AddressOf(name);
        Assert.That(address, Is.InRange(KernelText.Start, KernelText.Start + KernelText.Size - 1));
        Assert.That(address % 16, Is.Zero);
    }

    [Test]
    public void NamesGiveStableDistinctAddresses()
    {
        // Pinned: modelled cycles depend on addresses, so they must not change between runs or versions.
        Assert.That(KernelText.AddressOf("ip_rcv"), Is.EqualTo(0xffff_ffff_81c4_6a20));
        string[] names = ["IpRcv", "Ipv6Rcv", "ArpRcv", "PacketRcv", "TpacketRcv"];
        Assert.That(names.Select(KernelText.AddressOf), Is.Unique);
    }
}
