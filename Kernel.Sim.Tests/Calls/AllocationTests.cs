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
    public void AdaptiveSiteAllocatesOnlyAtWindowEnds()
    {
        var site = new AdaptiveCallSite<nint>("alloc_adaptive", Mitigation.Retpoline);
        for (var i = 0; i < Calls; i++)
            site.Call(One, i);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Calls * 10; i++)
            site.Call(One, i);
        Assert.That((GC.GetAllocatedBytesForCurrentThread() - before) / (double)(Calls * 10), Is.LessThan(1.0));
    }
}
