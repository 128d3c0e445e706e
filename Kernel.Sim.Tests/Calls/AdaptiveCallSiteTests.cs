using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Calls;

public sealed class AdaptiveCallSiteTests
{
    private static readonly CallTarget<nint> One = CallTarget<nint>.Of<AddOne>();
    private static readonly CallTarget<nint> Two = CallTarget<nint>.Of<AddTwo>();
    private static readonly CallTarget<nint> Three = CallTarget<nint>.Of<AddThree>();
    private static readonly CallTarget<nint> Four = CallTarget<nint>.Of<AddFour>();

    private static readonly AdaptiveOptions Fast = new() { SampleEvery = 1, Window = 100 };

    [Test]
    public void StartsUnguardedThenPromotesTheHotTargetsHottestFirst()
    {
        var site = new AdaptiveCallSite<nint>("adaptive_promote", Mitigation.Retpoline, options: Fast);
        Assert.That(site.Candidates, Is.Empty);
        for (var i = 0; i < 100; i++)
            Assert.That(site.Call(i % 4 == 0 ? Two : One, 0), Is.EqualTo(i % 4 == 0 ? 2 : 1));
        Assert.That(site.Candidates, Is.EqualTo(new[] { One, Two }));
        Assert.That(site.Decisions, Has.Count.EqualTo(1));
        Assert.That(site.Decisions[0].Promoted, Is.EqualTo(new[] { "AddOne", "AddTwo" }));
        // The 100th call takes the decision before it is made, so it already goes through the new guard.
        Assert.That((site.Misses, site.Hits), Is.EqualTo((99L, 1L)));
        for (var i = 0; i < 10; i++)
            site.Call(One, 0);
        Assert.That(site.Hits, Is.EqualTo(11));
    }

    [Test]
    public void DemotesWhenTheDistributionShifts()
    {
        var site = new AdaptiveCallSite<nint>("adaptive_shift", Mitigation.Retpoline, options: Fast);
        var decisions = new List<AdaptiveDecision>();
        site.Decided += decisions.Add;
        for (var i = 0; i < 100; i++)
            site.Call(i % 2 == 0 ? One : Two, 0);
        for (var i = 0; i < 100; i++)
            site.Call(i % 2 == 0 ? Three : Four, 0);
        Assert.That(site.Candidates, Is.EquivalentTo(new[] { Three, Four }));
        Assert.That(decisions, Has.Count.EqualTo(2));
        Assert.That(decisions[1].Demoted, Is.EquivalentTo(new[] { "AddOne", "AddTwo" }));
        Assert.That(decisions[1].Promoted, Is.EquivalentTo(new[] { "AddThree", "AddFour" }));
    }

    [Test]
    public void StableDistributionIsNotRepatched()
    {
        var site = new AdaptiveCallSite<nint>("adaptive_stable", Mitigation.None, options: Fast);
        for (var i = 0; i < 1000; i++)
            site.Call(One, 0);
        Assert.That(site.Decisions, Has.Count.EqualTo(1));
        Assert.That(site.Slots[0].Pokes, Is.EqualTo(1));
    }

    [Test]
    public void RepatchIsVisibleInTheSlotBytes()
    {
        var site = new AdaptiveCallSite<nint>("adaptive_bytes", Mitigation.None, options: Fast);
        Assert.That(site.Slots[0].Decode(), Is.EqualTo(PatchedInstruction.Jump));
        for (var i = 0; i < 100; i++)
            site.Call(Three, 0);
        Assert.That(site.Slots[0].Decode(site.Slots[0].Bytes, out var target), Is.EqualTo(PatchedInstruction.Call));
        Assert.That(target, Is.EqualTo(Three.Address));
        Assert.That(site.Slots[1].Decode(), Is.EqualTo(PatchedInstruction.Jump));
    }

    [Test]
    public void RandomSpreadBelowTheShareKeepsNoCandidates()
    {
        var site = new AdaptiveCallSite<nint>("adaptive_cold", Mitigation.None, options: Fast with { MinShare = 0.5 });
        CallTarget<nint>[] targets = [One, Two, Three, Four];
        for (var i = 0; i < 400; i++)
            site.Call(targets[i % 4], 0);
        Assert.That((site.Candidates.Count, site.Decisions.Count), Is.EqualTo((0, 0)));
    }

    [Test]
    public void ConcurrentCallersGetRightResultsWhileTheSiteRepatches()
    {
        var site = new AdaptiveCallSite<nint>("adaptive_concurrent", Mitigation.Retpoline, options: new AdaptiveOptions { SampleEvery = 2, Window = 64 });
        CallTarget<nint>[] targets = [One, Two, Three, Four];
        var wrong = 0;
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            for (var i = 0; i < 100_000; i++)
            {
                // The hot pair shifts every 10,000 calls, so the site keeps promoting and demoting.
                var k = ((i / 10_000) + t + (i & 1)) % 4;
                if (site.Call(targets[k], 10) != 11 + k)
                    Interlocked.Increment(ref wrong);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.That(wrong, Is.Zero);
        Assert.That(site.Decisions, Is.Not.Empty);
    }

    [Test]
    public void BadOptionsAreRefused() =>
        Assert.That(() => new AdaptiveCallSite<nint>("bad", Mitigation.None, options: new AdaptiveOptions { SampleEvery = 3 }), Throws.ArgumentException);
}
