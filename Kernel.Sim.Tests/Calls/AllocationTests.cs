using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Calls;

/// <summary>Hot paths allocate nothing per call, with modelling off and on.</summary>
public sealed class AllocationTests
{
    private const int Calls = 10_000;

    private static readonly CallTarget<nint> One = CallTarget<nint>.Of<AddOne>();

    [TestCase(false)]
    [TestCase(true)]
    public void CallsAllocateNothing(bool modelling)
    {
        using var model = new CostModel(CpuProfiles.Skylake, enabled: modelling);
        var site = new IndirectCallSite<nint>("alloc_site", Mitigation.Retpoline, model);
        var hit = new IndirectCallGuard<nint, AddOne>("alloc_hit", Mitigation.Retpoline, model);
        var miss = new IndirectCallGuard<nint, AddTwo>("alloc_miss", Mitigation.Retpoline, model);
        var call = StaticCall<nint>.Define<AddOne>("alloc_sc", model);
        var inline = call.Site<PlusHundredCaller>("alloc_inline");
        var key = new StaticKey("alloc_key", initiallyEnabled: false, model);
        var branch = key.Unlikely("alloc_branch");

        void Run()
        {
            for (var i = 0; i < Calls; i++)
            {
                site.Call(One, i);
                hit.Call(One, i);
                miss.Call(One, i);
                call.Call(i);
                call.CallCond(i);
                inline.Run(i);
                branch.Test();
            }
        }

        Run(); // first calls JIT-compile and create thread-local state
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void AdaptiveSiteAllocatesNothingOnceItsHotSetIsStable()
    {
        var site = new AdaptiveCallSite<nint>("alloc_adaptive", Mitigation.Retpoline);
        for (var i = 0; i < Calls; i++)
            site.Call(One, i);
        var decisions = site.Decisions.Count;
        var before = GC.GetAllocatedBytesForCurrentThread();
        // 100k calls: about 24 windows, each confirming the same candidate.
        for (var i = 0; i < Calls * 10; i++)
            site.Call(One, i);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(site.Decisions, Has.Count.EqualTo(decisions));
        Assert.That(site.Candidates, Is.EqualTo(new[] { One }));
    }

    [Test]
    public void AdaptiveSiteStillRepatchesWhenTheHotSetChanges()
    {
        var two = CallTarget<nint>.Of<AddTwo>();
        var site = new AdaptiveCallSite<nint>("alloc_adaptive_shift", Mitigation.Retpoline);
        for (var i = 0; i < Calls; i++)
            site.Call(One, i);
        for (var i = 0; i < Calls; i++)
            site.Call(two, i);
        Assert.That(site.Candidates, Is.EqualTo(new[] { two }));
        Assert.That(site.Decisions.SelectMany(d => d.Promoted), Does.Contain(nameof(AddTwo)));
        Assert.That(site.Decisions[^1].Demoted, Does.Contain(nameof(AddOne)));
    }
}
