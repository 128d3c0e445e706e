using Kernel.Sim.Calls;

namespace Kernel.Sim.Tests.Calls;

public sealed class TextPokeTests
{
    private const ulong Site = 0xffff_ffff_8100_1000;

    [Test]
    public void PokeFollowsInt3TailHeadWithSyncs()
    {
        var site = new PatchSite("poke", Site, PatchSite.Branch(Site, Site + 0x100, call: true));
        var steps = new List<TextPokeEvent>();
        var published = -1;
        TextPoke.Poke(site, PatchSite.Branch(Site, Site + 0x200, call: true), () => published = steps.Count, observer: steps.Add);
        Assert.That(steps.Select(s => s.Step), Is.EqualTo(new[]
        {
            TextPokeStep.Int3, TextPokeStep.Sync, TextPokeStep.Tail, TextPokeStep.Sync, TextPokeStep.Head, TextPokeStep.Sync,
        }));
        Assert.That(published, Is.EqualTo(1), "the managed code switches while the int3 is in place");
        Assert.That(steps[0].Bytes[0], Is.EqualTo(0xcc));
        site.Decode(site.Bytes, out var target);
        Assert.That(target, Is.EqualTo(Site + 0x200));
    }

    [Test]
    public void EveryObservedStateDecodesToOldBreakpointOrNew()
    {
        var site = new PatchSite("torn", Site, PatchSite.Nop());
        var seen = new List<PatchedInstruction>();
        TextPoke.Poke(site, PatchSite.Branch(Site, Site + 0x40, call: false), observer: e => seen.Add(site.Decode(e.Bytes, out _)));
        TextPoke.Poke(site, PatchSite.Nop(), observer: e => seen.Add(site.Decode(e.Bytes, out _)));
        Assert.That(seen, Has.All.AnyOf(PatchedInstruction.Nop, PatchedInstruction.Breakpoint, PatchedInstruction.Jump));
        Assert.That(site.Pokes, Is.EqualTo(2));
    }

    [Test]
    public void IdenticalPokeChangesNothing()
    {
        var site = new PatchSite("same", Site, PatchSite.Nop());
        var steps = 0;
        TextPoke.Poke(site, PatchSite.Nop(), observer: _ => steps++);
        Assert.That((steps, site.Pokes), Is.EqualTo((0, 0L)));
    }

    [Test]
    public void WrongLengthIsRefused()
    {
        var site = new PatchSite("len", Site, PatchSite.Nop());
        Assert.That(() => TextPoke.Poke(site, new byte[] { 0x90 }), Throws.ArgumentException.With.Message.Contains("len"));
    }

    [Test]
    public void BranchOutOfRel32RangeIsRefused() =>
        Assert.That(() => PatchSite.Branch(Site, 0x0000_1000_0000_0000, call: true), Throws.InstanceOf<ArgumentOutOfRangeException>());
}
