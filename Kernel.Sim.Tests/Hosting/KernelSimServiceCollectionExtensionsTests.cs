using Kernel.Sim.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Kernel.Sim.Tests.Hosting;

public sealed class KernelSimServiceCollectionExtensionsTests
{
    [Test]
    public void TwoProvidersComposeTwoIndependentKernels()
    {
        using var a = new ServiceCollection().AddKernelSim(o => o.Cpus = 2).BuildServiceProvider();
        using var b = new ServiceCollection().AddKernelSim().BuildServiceProvider();
        var ka = a.GetRequiredService<SimulatedKernel>();
        var kb = b.GetRequiredService<SimulatedKernel>();
        Assert.That(ka, Is.Not.SameAs(kb));
        Assert.That(ka.Options.Cpus, Is.EqualTo(2));
        Assert.That(kb.Options.Cpus, Is.EqualTo(1));
    }

    [Test]
    public void ZeroCpusIsRejected()
    {
        using var provider = new ServiceCollection().AddKernelSim(o => o.Cpus = 0).BuildServiceProvider();
        Assert.That(() => provider.GetRequiredService<SimulatedKernel>(), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
