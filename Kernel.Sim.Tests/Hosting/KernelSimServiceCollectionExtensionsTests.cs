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

public sealed class SimulatedKernelCompositionTests
{
    [Test]
    public void AddKernelSimBuildsTheCoreAndTracingWithTheConfiguredCpus()
    {
        using var provider = new ServiceCollection().AddKernelSim(o => o.Cpus = 3).BuildServiceProvider();
        var kernel = provider.GetRequiredService<SimulatedKernel>();
        Assert.That(kernel.Core.Cpus.Count, Is.EqualTo(3));
        Assert.That(kernel.Tracing.Trace.Buffer.CpuCount, Is.EqualTo(3));
        Assert.That(kernel.Tracing.Kprobes.DefaultMaxActive, Is.EqualTo(10));
        Assert.That(kernel.Workloads.Names, Is.EqualTo(new[] { "net", "syscall" }));
    }
}
