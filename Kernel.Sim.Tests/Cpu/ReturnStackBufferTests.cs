using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Cpu;

public sealed class ReturnStackBufferTests
{
    [Test]
    public void PopsInReverseOrder()
    {
        var rsb = new ReturnStackBuffer(16);
        rsb.Push(1);
        rsb.Push(2);
        Assert.That(rsb.TryPop(out var a) && rsb.TryPop(out var b) ? (a, b) : default, Is.EqualTo((2UL, 1UL)));
    }

    [Test]
    public void UnderflowsWhenEmpty()
    {
        var rsb = new ReturnStackBuffer(16);
        Assert.That(rsb.TryPop(out _), Is.False);
    }

    [Test]
    public void OverflowLosesTheOldestEntries()
    {
        var rsb = new ReturnStackBuffer(16);
        for (ulong i = 1; i <= 20; i++)
            rsb.Push(i);
        var popped = new List<ulong>();
        while (rsb.TryPop(out var r))
            popped.Add(r);
        Assert.That(popped, Is.EqualTo(Enumerable.Range(5, 16).Reverse().Select(i => (ulong)i)));
    }
}
