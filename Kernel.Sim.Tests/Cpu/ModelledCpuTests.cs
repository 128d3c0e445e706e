using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Cpu;

public sealed class ModelledCpuTests
{
    private const ulong Site = 0xffff_ffff_8100_2000;
    private const ulong Target = 0xffff_ffff_8150_0000;

    [Test]
    public void RetpolineAlwaysMispredictsThroughTheRsb()
    {
        var cpu = new ModelledCpu(0, CpuProfiles.Skylake);
        for (var i = 0; i < 100; i++)
        {
            Assert.That(cpu.CallIndirect(Site, Target, Mitigation.Retpoline), Is.False);
            cpu.Return(Site);
        }

        var p = CpuProfiles.Skylake;
        Assert.That(cpu.Account.Mispredicts, Is.EqualTo(100));
        Assert.That(cpu.Account.Cycles, Is.EqualTo(100 * (p.DirectCall + p.RetpolineThunk + p.MispredictPenalty)).Within(1e-6));
        Assert.That(cpu.Rsb.Count, Is.Zero, "the thunk's own entry and the caller's are both consumed");
    }

    [Test]
    public void PredictedIndirectCostsTheProfileFigure()
    {
        // Warm up until the path history holds only this target.
        var cpu = new ModelledCpu(0, CpuProfiles.IceLake);
        for (var i = 0; i < 8; i++)
        {
            cpu.CallIndirect(Site, Target, Mitigation.Eibrs);
            cpu.Return(Site);
        }

        cpu.Account.Reset();
        cpu.CallIndirect(Site, Target, Mitigation.Eibrs);
        cpu.Return(Site);
        var p = CpuProfiles.IceLake;
        Assert.That(cpu.Account.Cycles, Is.EqualTo(p.PredictedIndirectCall + p.EibrsIndirectOverhead));
    }

    [TestCase("skylake", 0)]
    [TestCase("zen2", 4)]
    public void DeepNestingUnderflowsTheRsb(string profile, int expectedMispredicts)
    {
        // 20 nested direct calls on a 16-entry RSB (Skylake) or 32-entry (Zen 2): the 4 outermost returns underflow
        // on Skylake, where the BTB has seen those returns before (earlier passes warm it), and none on Zen 2.
        var p = CpuProfiles.Resolve(profile) with { RsbDepth = 16 };
        var cpu = new ModelledCpu(0, p);
        for (var pass = 0; pass < 3; pass++)
        {
            cpu.Account.Reset();
            for (ulong depth = 0; depth < 20; depth++)
                cpu.CallDirect(Site + (depth * 0x10));
            for (var depth = 19; depth >= 0; depth--)
                cpu.Return(Site + ((ulong)depth * 0x10));
        }

        Assert.That(cpu.Account.RsbUnderflows, Is.EqualTo(4));
        Assert.That(cpu.Account.Mispredicts, Is.EqualTo(expectedMispredicts));
    }

    [Test]
    public void SameInputsGiveIdenticalCounts()
    {
        var first = Run(seed: 3);
        var again = Run(seed: 3);
        Assert.That(again, Is.EqualTo(first));
        Assert.That(Run(seed: 4), Is.Not.EqualTo(first));
    }

    [Test]
    public void DisabledModelChargesNothing()
    {
        using var model = new CostModel(CpuProfiles.Skylake, cpus: 2, enabled: false);
        var site = new Kernel.Sim.Calls.IndirectCallSite<nint>("off", Mitigation.Retpoline, model);
        site.Call(Kernel.Sim.Calls.CallTarget<nint>.Of<Kernel.Sim.Tests.Calls.AddOne>(), 0);
        Assert.That(model.TotalCycles, Is.Zero);
    }

    [Test]
    public void ThreadsChargeTheirBoundCpu()
    {
        using var model = new CostModel(CpuProfiles.Skylake, cpus: 2);
        var t = new Thread(() =>
        {
            model.BindCurrentThread(1);
            model.Current.CallDirect(Site);
        });
        t.Start();
        t.Join();
        Assert.That((model.Cpus[0].Account.Calls, model.Cpus[1].Account.Calls), Is.EqualTo((0L, 1L)));
    }

    private static (double, long) Run(int seed)
    {
        var cpu = new ModelledCpu(0, CpuProfiles.Zen2);
        var random = new Random(seed);
        for (var i = 0; i < 5000; i++)
        {
            cpu.CallIndirect(Site, Target + ((ulong)random.Next(4) * 0x100), Mitigation.None);
            cpu.Return(Site);
        }

        return (cpu.Account.Cycles, cpu.Account.Mispredicts);
    }
}
