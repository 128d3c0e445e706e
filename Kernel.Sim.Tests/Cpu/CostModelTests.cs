using Kernel.Sim.Cpu;
using Kernel.Sim.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Kernel.Sim.Tests.Cpu;

public sealed class CostModelTests
{
    [Test]
    public void AddKernelSimComposesAModelFromTheOptions()
    {
        using var provider = new ServiceCollection()
            .AddKernelSim(o =>
            {
                o.Cpus = 2;
                o.Mitigation = Mitigation.Retpoline;
                o.Profile = "zen2";
            })
            .BuildServiceProvider();
        var model = provider.GetRequiredService<CostModel>();
        Assert.That((model.Profile.Name, model.Cpus.Count, model.Enabled), Is.EqualTo(("zen2", 2, false)));
    }

    [Test]
    public void TwoKernelsHaveSeparateModels()
    {
        using var a = new ServiceCollection().AddKernelSim().BuildServiceProvider();
        using var b = new ServiceCollection().AddKernelSim().BuildServiceProvider();
        Assert.That(a.GetRequiredService<CostModel>(), Is.Not.SameAs(b.GetRequiredService<CostModel>()));
    }

    [Test]
    public void ResetZeroesEveryCpu()
    {
        using var model = new CostModel(CpuProfiles.Skylake, cpus: 2);
        model.Cpus[0].CallDirect(0xffff_ffff_8100_0000);
        model.Cpus[1].PatchedNop();
        model.Reset();
        Assert.That(model.TotalCycles, Is.Zero);
    }

    [Test]
    public void BindingAMissingCpuIsRefused()
    {
        using var model = new CostModel(CpuProfiles.Skylake, cpus: 2);
        Assert.That(() => model.BindCurrentThread(2), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
