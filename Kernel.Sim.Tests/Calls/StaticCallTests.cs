using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Calls;

public sealed class StaticCallTests
{
    [Test]
    public void DefinedTargetIsCalledAndUpdateRetargets()
    {
        var call = StaticCall<nint>.Define<AddOne>("sc_define");
        Assert.That(call.Call(1), Is.EqualTo(2));
        call.Update<AddTwo>();
        Assert.That(call.Call(1), Is.EqualTo(3));
        Assert.That(call.Target!.Name, Is.EqualTo("AddTwo"));
    }

    [Test]
    public void NullCallIsRefusedButCondDoesNothing()
    {
        var call = StaticCall<nint>.DefineNull("sc_null");
        Assert.That(call.Target, Is.Null);
        Assert.That(() => call.Call(1), Throws.InvalidOperationException);
        Assert.That(() => call.CallCond(1), Throws.Nothing);
        Assert.That(call.Trampoline.Decode(), Is.EqualTo(PatchedInstruction.Return));
    }

    [Test]
    public void CondCallsTheTargetOnceSet()
    {
        var call = StaticCall<nint>.DefineNull("sc_cond");
        using var model = new CostModel(CpuProfiles.Zen2);
        var counted = StaticCall<nint>.DefineNull("sc_cond_model", model);
        counted.CallCond(0);
        Assert.That(model.Current.Account.Calls, Is.Zero);
        counted.Update<AddOne>();
        counted.CallCond(0);
        Assert.That(model.Current.Account.Calls, Is.EqualTo(1));
        call.Update<AddOne>();
        Assert.That(call.Call(0), Is.EqualTo(1));
    }

    [Test]
    public void Ret0ReturnsZeroAndInlineSitesBecomeXorEax()
    {
        var call = StaticCall<nint>.DefineRet0("sc_ret0");
        var site = call.Site<PlusHundredCaller>("ret0_caller");
        Assert.That((call.IsRet0, call.Call(41), site.Run(41)), Is.EqualTo((true, 0, 100)));
        Assert.That(site.Site.Decode(), Is.EqualTo(PatchedInstruction.Return0));
        call.Update<AddOne>();
        Assert.That((call.IsRet0, call.Call(41), site.Run(41)), Is.EqualTo((false, 42, 142)));
        Assert.That(site.Site.Decode(), Is.EqualTo(PatchedInstruction.Call));
    }

    [Test]
    public void InlineSiteFollowsUpdatesAndNull()
    {
        var call = StaticCall<nint>.Define<AddOne>("sc_inline");
        var site = call.Site<PlusHundredCaller>("inline_caller");
        Assert.That(site.Run(1), Is.EqualTo(102));
        call.Update<AddThree>();
        Assert.That(site.Run(1), Is.EqualTo(104));
        site.Site.Decode(site.Site.Bytes, out var target);
        Assert.That(target, Is.EqualTo(CallTarget<nint>.Of<AddThree>().Address));
        call.Update((CallTarget<nint>?)null);
        Assert.That(site.Run(1), Is.EqualTo(-1));
        Assert.That(site.Site.Decode(), Is.EqualTo(PatchedInstruction.Nop));
    }

    [Test]
    public void TrampolineJumpsToTheTarget()
    {
        var call = StaticCall<nint>.Define<AddTwo>("sc_tramp");
        Assert.That(call.Trampoline.Decode(call.Trampoline.Bytes, out var target), Is.EqualTo(PatchedInstruction.Jump));
        Assert.That(target, Is.EqualTo(CallTarget<nint>.Of<AddTwo>().Address));
    }

    [Test]
    public void UpdateChecksTheTargetType()
    {
        var call = StaticCall<nint>.Define<AddOne>("sc_typecheck");
        Assert.That(() => call.Update(typeof(NotATarget)), Throws.ArgumentException.With.Message.Contains("NotATarget"));
        Assert.That(() => call.Update(typeof(int)), Throws.ArgumentException);
        call.Update(typeof(AddFour));
        Assert.That(call.Call(0), Is.EqualTo(4));
        unsafe
        {
            var pointerOnly = CallTarget<nint>.FromPointer("anon", &Identity);
            Assert.That(() => call.Update(pointerOnly), Throws.ArgumentException.With.Message.Contains("known only by pointer"));
        }

        Assert.That(call.Call(0), Is.EqualTo(4), "a refused update leaves the old target");
    }

    [Test]
    public void ModelChargesTrampolineAndPatchedCalls()
    {
        using var model = new CostModel(CpuProfiles.Skylake);
        var call = StaticCall<nint>.Define<AddOne>("sc_model", model);
        var site = call.Site<PlusHundredCaller>("sc_model_caller");
        model.Reset();
        call.Call(0);
        var p = CpuProfiles.Skylake;
        Assert.That(model.Current.Account.Cycles, Is.EqualTo(p.DirectCall + p.TrampolineJump));
        model.Reset();
        site.Run(0);
        Assert.That(model.Current.Account.Cycles, Is.EqualTo(p.PatchedCall));
    }

    [Test]
    public void UpdateChargesTextPokes()
    {
        using var model = new CostModel(CpuProfiles.Skylake);
        var call = StaticCall<nint>.Define<AddOne>("sc_poke", model);
        call.Site<PlusHundredCaller>("sc_poke_caller");
        call.Update<AddTwo>();
        Assert.That(model.Current.Account.TextPokes, Is.EqualTo(2), "trampoline and one inline site");
        call.Update<AddTwo>();
        Assert.That(model.Current.Account.TextPokes, Is.EqualTo(2), "an update to the same target patches nothing");
    }

    private static int Identity(nint x) => (int)x;
}
