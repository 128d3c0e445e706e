using Kernel.Sim.Calls;

namespace Kernel.Sim.Tests.Calls;

public sealed class PatchSiteTests
{
    private const ulong Site = 0xffff_ffff_8100_2000;

    [Test]
    public void DecodesEveryPatchedForm()
    {
        var site = new PatchSite("decode", Site, PatchSite.Nop());
        Assert.That(site.Decode(PatchSite.Nop(), out _), Is.EqualTo(PatchedInstruction.Nop));
        Assert.That(site.Decode(PatchSite.Return0(), out _), Is.EqualTo(PatchedInstruction.Return0));
        Assert.That(site.Decode(PatchSite.Return(), out _), Is.EqualTo(PatchedInstruction.Return));
        Assert.That(site.Decode([0xcc, 0, 0, 0, 0], out _), Is.EqualTo(PatchedInstruction.Breakpoint));
        Assert.That(site.Decode([0x0f, 0x1f, 0x44, 0x00, 0x01], out _), Is.EqualTo(PatchedInstruction.Invalid));
    }

    [Test]
    public void BranchesEncodeRel32FromTheNextInstruction()
    {
        var call = PatchSite.Branch(Site, Site + 0x105, call: true);
        Assert.That(call, Is.EqualTo(new byte[] { 0xe8, 0x00, 0x01, 0x00, 0x00 }));
        var back = PatchSite.Branch(Site, Site - 0x10, call: false);
        var site = new PatchSite("rel", Site, back);
        Assert.That(site.Decode(site.Bytes, out var target), Is.EqualTo(PatchedInstruction.Jump));
        Assert.That(target, Is.EqualTo(Site - 0x10));
    }

    [Test]
    public void WrongInitialLengthNamesTheSite() =>
        Assert.That(() => new PatchSite("short_site", Site, new byte[] { 0x90 }), Throws.ArgumentException.With.Message.Contains("short_site"));

    [Test]
    public void ToStringShowsAddressAndBytes() =>
        Assert.That(new PatchSite("shown", Site, PatchSite.Nop()).ToString(), Is.EqualTo("shown @ffffffff81002000: 0f1f440000"));
}
