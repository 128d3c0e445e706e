using Kernel.Sim.Core;

namespace Kernel.Sim.Tests.Core;

public sealed unsafe class KernelMemoryTests
{
    [Test]
    public void ProbeReadInsideARegionCopiesTheBytes()
    {
        using var memory = new KernelMemory();
        var region = memory.Allocate("obj", 64);
        *(ulong*)(region.Start + 8) = 0x1122334455667788;
        Assert.That(memory.ProbeRead(region.Start + 8, out ulong value), Is.EqualTo(0));
        Assert.That(value, Is.EqualTo(0x1122334455667788));
        Assert.That(memory.Find(region.Start + 63), Is.SameAs(region));
    }

    [Test]
    public void ProbeReadOutsideOrAcrossTheEndIsEfaultAndZeroes()
    {
        using var memory = new KernelMemory();
        var region = memory.Allocate("obj", 16);
        Span<byte> buffer = stackalloc byte[8];
        buffer.Fill(0xff);
        Assert.That(memory.ProbeRead(region.Start + 12, buffer), Is.EqualTo(-Errno.EFAULT));
        Assert.That(buffer.ToArray(), Is.All.EqualTo(0));
        Assert.That(memory.ProbeRead(8, out ulong _), Is.EqualTo(-Errno.EFAULT));
        Assert.That(memory.Find(region.End), Is.Null);
    }

    [Test]
    public void FreedRegionsNoLongerResolve()
    {
        using var memory = new KernelMemory();
        var region = memory.Allocate("obj", 16);
        memory.Free(region);
        Assert.That(memory.ProbeRead(region.Start, out uint _), Is.EqualTo(-Errno.EFAULT));
        Assert.That(() => memory.Free(region), Throws.InvalidOperationException);
    }

    [Test]
    public void ProbeReadStringStopsAtNulAndBoundsTheCopy()
    {
        using var memory = new KernelMemory();
        var region = memory.Allocate("str", 32);
        "eth0"u8.CopyTo(new Span<byte>((void*)region.Start, 32));
        var buffer = new byte[16];
        Assert.That(memory.ProbeReadString(region.Start, buffer), Is.EqualTo(5));
        Assert.That(System.Text.Encoding.ASCII.GetString(buffer, 0, 4), Is.EqualTo("eth0"));
        Assert.That(memory.ProbeReadString(16, buffer), Is.EqualTo(-Errno.EFAULT));
    }

    [Test]
    public void ManyRegionsAreFoundByBinarySearch()
    {
        using var memory = new KernelMemory();
        var regions = Enumerable.Range(0, 50).Select(i => memory.Allocate($"r{i}", (ulong)(8 + i))).ToArray();
        foreach (var r in regions)
            Assert.That(memory.Find(r.Start + r.Size - 1), Is.SameAs(r));
    }
}
