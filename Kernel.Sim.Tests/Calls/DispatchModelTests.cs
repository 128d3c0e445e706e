using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Calls;

public sealed class DispatchModelTests
{
    private static double Cycles(IReadOnlyList<ModelResult> results, string mechanism) =>
        results.Single(r => r.Mechanism == mechanism).CyclesPerCall;

    [Test]
    public void Zen5ProfileReproducesTheMachineOfRecordOnOneTarget()
    {
        // Issue 5's measured figures (cycles per call): direct 4.2, predicted indirect 6.0, retpoline 29-33,
        // lfence thunk 19-26, guard hit 5.1, trampoline 4.1, patched call 4.05.
        var r = DispatchModel.Run(CpuProfiles.Zen5, 1, CallPattern.Mono, 5000, 1);
        Assert.That(Cycles(r, "direct"), Is.EqualTo(4.2).Within(1e-9));
        Assert.That(Cycles(r, "indirect"), Is.EqualTo(6.0).Within(1e-9));
        Assert.That(Cycles(r, "retpoline"), Is.InRange(29.0, 33.0));
        Assert.That(Cycles(r, "retpoline-lfence"), Is.InRange(19.0, 26.0));
        Assert.That(Cycles(r, "guard-hit"), Is.EqualTo(5.1).Within(1e-9));
        Assert.That(Cycles(r, "static-call"), Is.EqualTo(4.05).Within(1e-9));
    }

    [Test]
    public void RetpolineCostsTheSameWhateverThePattern()
    {
        var mono = DispatchModel.Run(CpuProfiles.Skylake, 4, CallPattern.Mono, 4000, 1);
        var random = DispatchModel.Run(CpuProfiles.Skylake, 4, CallPattern.Random, 4000, 1);
        Assert.That(Cycles(random, "retpoline"), Is.EqualTo(Cycles(mono, "retpoline")));
        Assert.That(Cycles(random, "indirect"), Is.GreaterThan(Cycles(mono, "indirect") + 5));
    }

    [Test]
    public void AdaptiveLearnsFourAlternatingTargets()
    {
        var r = DispatchModel.Run(CpuProfiles.Skylake, 4, CallPattern.Alternate, 8000, 1);
        Assert.That(Cycles(r, "adaptive"), Is.EqualTo(Cycles(r, "guard-hit")).Within(0.1));
        Assert.That(Cycles(r, "adaptive"), Is.LessThan(Cycles(r, "retpoline") / 2));
    }

    [Test]
    public void BadTargetCountIsRefused() =>
        Assert.That(() => DispatchModel.Run(CpuProfiles.Skylake, 3, CallPattern.Mono, 10, 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
}
