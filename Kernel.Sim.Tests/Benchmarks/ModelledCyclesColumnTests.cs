using BenchmarkDotNet.Running;
using Kernel.Sim.Bench.Benchmarks;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Benchmarks;

public sealed class ModelledCyclesColumnTests
{
    private static BenchmarkCase Case(Type suite, string method, params (string Name, string Value)[] parameters) =>
        BenchmarkConverter.TypeToBenchmarks(suite).BenchmarksCases.Single(c =>
            c.Descriptor.WorkloadMethod.Name == method && parameters.All(p => Equals(c.Parameters[p.Name], p.Value)));

    [TestCase("retpoline/mono", 26.0)] // skylake: direct call 4 + thunk 5 + RSB mispredict 17
    [TestCase("direct/mono", 4.0)]
    public void NativeLabCaseGetsTheModelOfItsMechanismAndPattern(string nativeCase, double cycles)
    {
        var column = new ModelledCyclesColumn(CpuProfiles.Skylake);

        Assert.That(column.Cycles(Case(typeof(NativeLabBenchmarks), nameof(NativeLabBenchmarks.CallLoop), ("Case", nativeCase))), Is.EqualTo(cycles).Within(0.01));
    }

    [Test]
    public void NativeLabRandomPatternIsModelledWithFourTargets()
    {
        var column = new ModelledCyclesColumn(CpuProfiles.Skylake);

        var mono = column.Cycles(Case(typeof(NativeLabBenchmarks), nameof(NativeLabBenchmarks.CallLoop), ("Case", "indirect/mono")));
        var random = column.Cycles(Case(typeof(NativeLabBenchmarks), nameof(NativeLabBenchmarks.CallLoop), ("Case", "indirect/random")));

        Assert.That(random, Is.GreaterThan(mono!.Value), "random targets mispredict where one target does not");
    }

    [Test]
    public void PacketPathCaseGetsModelledCyclesPerPacketAndRetpolineCostsMoreThanIndirect()
    {
        var column = new ModelledCyclesColumn(CpuProfiles.Skylake);

        var retpoline = column.Cycles(Case(typeof(PacketPathBenchmarks), nameof(PacketPathBenchmarks.Receive), ("Strategy", "retpoline"), ("Mix", "udp-flood")));
        var indirect = column.Cycles(Case(typeof(PacketPathBenchmarks), nameof(PacketPathBenchmarks.Receive), ("Strategy", "indirect"), ("Mix", "udp-flood")));

        Assert.That(indirect, Is.GreaterThan(100), "a packet's path costs hundreds of cycles");
        Assert.That(retpoline, Is.GreaterThan(indirect!.Value));
    }

    [Test]
    public void DispatchMethodUsesItsModelledAsMechanismAndOtherSuitesShowNone()
    {
        var column = new ModelledCyclesColumn(CpuProfiles.Skylake);
        var probes = BenchmarkConverter.TypeToBenchmarks(typeof(PacketPathProbesBenchmarks)).BenchmarksCases[0];

        Assert.That(column.Cycles(Case(typeof(DispatchBenchmarks), nameof(DispatchBenchmarks.IndirectSite))), Is.EqualTo(26.0).Within(0.01));
        Assert.That(column.Cycles(probes), Is.Null);
    }
}
