using Kernel.Sim.Bpf.Elf;

namespace Kernel.Sim.Tests.Bpf.Elf;

public sealed class ElfFuzzerTests
{
    private static ElfFuzzer Fuzzer() =>
        new(Directory.GetFiles(ElfFixtures.Dir, "*.o").Order(StringComparer.Ordinal).Select(f => (Path.GetFileNameWithoutExtension(f), File.ReadAllBytes(f))).ToList());

    [Test]
    public void SmokeRunHasNoCrashes()
    {
        var report = Fuzzer().Run(3000, seed: 20261125);
        Assert.That(report.CrashCases.Select(c => c.Mutation + ": " + c.Exception), Is.Empty);
        Assert.That(report.Count, Is.EqualTo(3000));
        Assert.That(report.Loaded, Is.GreaterThan(0));
        Assert.That(report.Rejected, Is.GreaterThan(0));
        Assert.That(report.Loaded + report.Rejected, Is.EqualTo(3000));
        Assert.That(report.ByMutation.Values, Is.All.GreaterThan(0));
    }

    [Test]
    public void AMutantIsReproducibleFromSeedAndIteration()
    {
        var f = Fuzzer();
        var a = f.Mutate(7, 1234);
        var b = f.Mutate(7, 1234);
        Assert.That(b.Data, Is.EqualTo(a.Data));
        Assert.That(b.Mutation, Is.EqualTo(a.Mutation));
        Assert.That(f.Mutate(7, 1235).Data, Is.Not.EqualTo(a.Data));
    }
}
