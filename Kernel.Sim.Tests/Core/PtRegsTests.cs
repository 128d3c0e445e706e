using System.Runtime.InteropServices;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tests.Core;

public sealed class PtRegsTests
{
    [TestCase("r15", 0)]
    [TestCase("bp", 32)]
    [TestCase("r9", 64)]
    [TestCase("ax", 80)]
    [TestCase("si", 104)]
    [TestCase("di", 112)]
    [TestCase("orig_ax", 120)]
    [TestCase("ip", 128)]
    [TestCase("sp", 152)]
    [TestCase("ss", 160)]
    public void FieldsSitAtLinuxOffsets(string field, int offset)
    {
        Assert.That((int)Marshal.OffsetOf<PtRegs>(field), Is.EqualTo(offset));
        Assert.That(PtRegs.OffsetOf(field), Is.EqualTo(offset));
    }

    [Test]
    public unsafe void SizeIs168()
    {
        Assert.That(sizeof(PtRegs), Is.EqualTo(168));
        Assert.That(PtRegs.Size, Is.EqualTo(168));
    }

    [Test]
    public void ArgumentsFollowTheSystemVOrder()
    {
        var regs = new PtRegs { di = 1, si = 2, dx = 3, cx = 4, r8 = 5, r9 = 6 };
        Assert.That(Enumerable.Range(0, 7).Select(regs.Argument), Is.EqualTo(new ulong[] { 1, 2, 3, 4, 5, 6, 0 }));
    }
}
