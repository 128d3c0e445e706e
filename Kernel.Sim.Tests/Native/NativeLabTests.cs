using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Native;

public sealed class NativeLabTests
{
    [Test]
    public void SimulatedUnsupportedHostReportsTheReasonAndNoResults()
    {
        var report = NativeLab.Run(new NativeLabOptions { SimulateUnsupported = "no mmap here" });
        Assert.That(report.Supported, Is.False);
        Assert.That(report.Reason, Is.EqualTo("no mmap here"));
        Assert.That(report.Results, Is.Empty);
    }

    [Test]
    public void RunMeasuresEachMechanismUnderEachOfItsPatterns()
    {
        NativeTestHost.RequireSupported();
        var mechanisms = new[] { NativeMechanism.Direct, NativeMechanism.Retpoline, NativeMechanism.GuardHit };
        var report = NativeLab.Run(new NativeLabOptions { Calls = 2000, Repetitions = 3, Warmups = 1, Mechanisms = mechanisms });

        Assert.That(report.Supported, Is.True);
        Assert.That(report.Results.Select(r => $"{r.MechanismName}/{r.PatternName}"),
            Is.EqualTo(new[] { "direct/mono", "retpoline/mono", "retpoline/alternate", "retpoline/random", "guard-hit/mono" }));
        foreach (var r in report.Results)
        {
            Assert.That(r.Ns.Min, Is.LessThanOrEqualTo(r.Ns.Median).And.LessThanOrEqualTo(r.Ns.Max));
            Assert.That(r.Cycles.Min, Is.LessThanOrEqualTo(r.Cycles.Median).And.LessThanOrEqualTo(r.Cycles.Max));
            Assert.That(r.Cycles.Min, Is.Positive);
        }
    }

    [Test]
    public void BadOptionsAreRejected()
    {
        Assert.That(() => NativeLab.Run(new NativeLabOptions { Calls = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => NativeLab.Run(new NativeLabOptions { Repetitions = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void MedianOfEvenAndOddCounts()
    {
        Assert.That(NativeLabStatistic.Of([3, 1, 2]), Is.EqualTo(new NativeLabStatistic(1, 2, 3)));
        Assert.That(NativeLabStatistic.Of([4, 1, 2, 3]), Is.EqualTo(new NativeLabStatistic(1, 2.5, 4)));
    }

    [Test]
    public void MechanismNamesRoundTrip()
    {
        foreach (var m in NativeMechanisms.All)
        {
            Assert.That(NativeMechanisms.TryParse(m.Name(), out var parsed), Is.True);
            Assert.That(parsed, Is.EqualTo(m));
        }

        Assert.That(NativeMechanisms.TryParse("eibrs", out _), Is.False);
        Assert.That(NativeMechanisms.NotMeasurable.Keys, Is.EquivalentTo(new[] { "eibrs", "adaptive" }));
    }
}
