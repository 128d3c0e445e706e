using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Calls;

public sealed class StaticKeyTests
{
    [Test]
    public void DefinedFalseKeyStartsDisabledWithZeroCount()
    {
        var key = new StaticKey("k_false", initiallyEnabled: false);
        var branch = key.Unlikely("k_false_site");
        Assert.That((key.IsEnabled, key.Count, branch.Test()), Is.EqualTo((false, 0, false)));
        Assert.That(branch.Site.Decode(), Is.EqualTo(PatchedInstruction.Nop));
    }

    [Test]
    public void IncAndDecPatchOnlyOnTheFirstAndLastReference()
    {
        var key = new StaticKey("k_ref", initiallyEnabled: false);
        var branch = key.Unlikely("k_ref_site");
        key.Inc();
        key.Inc();
        Assert.That((key.Count, key.IsEnabled, branch.Site.Pokes), Is.EqualTo((2, true, 1L)));
        Assert.That(branch.Site.Decode(), Is.EqualTo(PatchedInstruction.Jump));
        key.Dec();
        Assert.That((key.Count, key.IsEnabled, branch.Site.Pokes), Is.EqualTo((1, true, 1L)));
        key.Dec();
        Assert.That((key.Count, key.IsEnabled, branch.Site.Pokes), Is.EqualTo((0, false, 2L)));
        Assert.That(() => key.Dec(), Throws.InvalidOperationException);
    }

    [Test]
    public void EnableAndDisableSetTheCountToOneAndZero()
    {
        var key = new StaticKey("k_enable", initiallyEnabled: true);
        Assert.That(key.Count, Is.EqualTo(1));
        key.Inc();
        key.Enable();
        Assert.That(key.Count, Is.EqualTo(2), "enable on an enabled key leaves the count");
        key.Disable();
        Assert.That((key.Count, key.IsEnabled), Is.EqualTo((0, false)));
        key.Enable();
        Assert.That((key.Count, key.IsEnabled), Is.EqualTo((1, true)));
    }

    [Test]
    public void LikelySiteIsANopWhileTheKeyIsTrue()
    {
        using var model = new CostModel(CpuProfiles.Skylake);
        var key = new StaticKey("k_likely", initiallyEnabled: true, model);
        var likely = key.Likely("k_likely_site");
        Assert.That(likely.Site.Decode(), Is.EqualTo(PatchedInstruction.Nop));
        likely.Test();
        Assert.That(model.Current.Account.Cycles, Is.EqualTo(CpuProfiles.Skylake.PatchedNop));
        key.Disable();
        Assert.That(likely.Site.Decode(), Is.EqualTo(PatchedInstruction.Jump));
        model.Reset();
        Assert.That(likely.Test(), Is.False);
        Assert.That(model.Current.Account.Cycles, Is.EqualTo(CpuProfiles.Skylake.StaticKeyJump));
    }
}
