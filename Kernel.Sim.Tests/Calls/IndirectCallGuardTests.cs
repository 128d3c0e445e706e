using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Calls;

public sealed class IndirectCallGuardTests
{
    private static readonly CallTarget<nint> One = CallTarget<nint>.Of<AddOne>();
    private static readonly CallTarget<nint> Two = CallTarget<nint>.Of<AddTwo>();
    private static readonly CallTarget<nint> Three = CallTarget<nint>.Of<AddThree>();
    private static readonly CallTarget<nint> Five = CallTarget<nint>.Of<AddFive>();

    [Test]
    public void HitCallsTheCandidateAndCountsIt()
    {
        var guard = new IndirectCallGuard<nint, AddOne, AddTwo>("site", Mitigation.Retpoline);
        Assert.That(guard.Call(Two, 10), Is.EqualTo(12));
        Assert.That(guard.Call(One, 10), Is.EqualTo(11));
        Assert.That(guard.Call(Two, 10), Is.EqualTo(12));
        Assert.That((guard.Hits(0), guard.Hits(1), guard.Misses), Is.EqualTo((1L, 2L, 0L)));
    }

    [Test]
    public void MissFallsBackToTheIndirectCall()
    {
        var guard = new IndirectCallGuard<nint, AddOne, AddTwo, AddThree, AddFour>("site", Mitigation.None);
        Assert.That(guard.Call(Five, 10), Is.EqualTo(15));
        Assert.That((guard.TotalHits, guard.Misses), Is.EqualTo((0L, 1L)));
    }

    [Test]
    public void CandidatesAreComparedInTheOrderWritten()
    {
        // With modelling on, the number of compares charged shows which candidate matched after how many tests.
        using var model = new CostModel(CpuProfiles.Skylake);
        var guard = new IndirectCallGuard<nint, AddThree, AddTwo, AddOne>("order", Mitigation.None, model);
        Assert.That(guard.Candidates.Select(c => c.Name), Is.EqualTo(new[] { "AddThree", "AddTwo", "AddOne" }));
        var cycles = new List<double>();
        foreach (var target in new[] { Three, Two, One })
        {
            // Warm the predictors so only the compare count differs.
            for (var i = 0; i < 50; i++)
                guard.Call(target, 0);
            var before = model.Current.Account.Cycles;
            guard.Call(target, 0);
            cycles.Add(model.Current.Account.Cycles - before);
        }

        var p = CpuProfiles.Skylake;
        Assert.That(cycles, Is.EqualTo(new[] { 1, 2, 3 }.Select(n => (n * p.GuardCompare) + p.DirectCall)).Within(1e-9));
    }

    [Test]
    public void PointerOnlyTargetsGoThroughTheFallback()
    {
        var guard = new IndirectCallGuard<nint, AddOne>("ptr", Mitigation.Retpoline);
        unsafe
        {
            var target = CallTarget<nint>.FromPointer("add_seven", &AddSeven);
            Assert.That(guard.Call(target, 1), Is.EqualTo(8));
        }

        Assert.That(guard.Misses, Is.EqualTo(1));
    }

    [Test]
    public void ResetCountersZeroesHitsAndMisses()
    {
        var guard = new IndirectCallGuard<nint, AddOne>("reset", Mitigation.None);
        guard.Call(One, 0);
        guard.Call(Two, 0);
        guard.ResetCounters();
        Assert.That((guard.TotalHits, guard.Misses), Is.EqualTo((0L, 0L)));
    }

    private static int AddSeven(nint x) => (int)x + 7;
}
