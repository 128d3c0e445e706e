using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Calls;

public sealed class IndirectCallSiteTests
{
    private static readonly CallTarget<nint> One = CallTarget<nint>.Of<AddOne>();

    [TestCase(Mitigation.None)]
    [TestCase(Mitigation.Retpoline)]
    [TestCase(Mitigation.RetpolineLfence)]
    [TestCase(Mitigation.Eibrs)]
    [TestCase(Mitigation.Ibrs)]
    public void EveryMitigationReachesTheTarget(Mitigation mitigation)
    {
        using var model = new CostModel(CpuProfiles.Skylake);
        var site = new IndirectCallSite<nint>("ind_" + mitigation, mitigation, model);
        Assert.That(site.Call(One, 41), Is.EqualTo(42));
        Assert.That(model.Current.Account.IndirectCalls, Is.EqualTo(1));
    }

    [Test]
    public void SteadyStateCostsFollowTheProfile()
    {
        var p = CpuProfiles.Zen2;
        var expected = new Dictionary<Mitigation, double>
        {
            [Mitigation.None] = p.PredictedIndirectCall,
            [Mitigation.Retpoline] = p.DirectCall + p.RetpolineThunk + p.MispredictPenalty,
            [Mitigation.RetpolineLfence] = p.PredictedIndirectCall + p.Lfence,
            [Mitigation.Eibrs] = p.PredictedIndirectCall + p.EibrsIndirectOverhead,
            [Mitigation.Ibrs] = p.PredictedIndirectCall + p.IbrsIndirectOverhead,
        };
        foreach (var (mitigation, cycles) in expected)
        {
            using var model = new CostModel(p);
            var site = new IndirectCallSite<nint>("steady", mitigation, model);
            for (var i = 0; i < 20; i++)
                site.Call(One, 0);
            var before = model.Current.Account.Cycles;
            site.Call(One, 0);
            Assert.That(model.Current.Account.Cycles - before, Is.EqualTo(cycles).Within(1e-9), mitigation.ToString());
        }
    }

    [Test]
    public void AddressComesFromTheNameUnlessGiven()
    {
        Assert.That(new IndirectCallSite<nint>("deliver_skb+0x3e", Mitigation.None).Address, Is.EqualTo(KernelText.AddressOf("deliver_skb+0x3e")));
        Assert.That(new IndirectCallSite<nint>("x", Mitigation.None, address: 0xffff_ffff_8100_0040).Address, Is.EqualTo(0xffff_ffff_8100_0040));
    }
}
