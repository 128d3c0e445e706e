using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Native;

public sealed class TargetPatternTests
{
    [Test]
    public void MonoAlwaysPicksTargetZero() =>
        Assert.That(TargetPattern.Mono.Indices(64, 1), Is.All.EqualTo(0));

    [Test]
    public void AlternatePicksZeroThenOne() =>
        Assert.That(TargetPattern.Alternate.Indices(6, 1), Is.EqualTo(new[] { 0, 1, 0, 1, 0, 1 }));

    [Test]
    public void RandomUsesAllFourTargetsAndIsReproducible()
    {
        var indices = TargetPattern.Random.Indices(4096, 3);
        Assert.That(indices.Distinct().Order(), Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(TargetPattern.Random.Indices(4096, 3), Is.EqualTo(indices));
        Assert.That(TargetPattern.Random.Indices(4096, 4), Is.Not.EqualTo(indices));
    }

    [TestCase(TargetPattern.Mono, "mono")]
    [TestCase(TargetPattern.Alternate, "alternate")]
    [TestCase(TargetPattern.Random, "random")]
    public void NamesAreTheJsonNames(TargetPattern pattern, string name) => Assert.That(pattern.Name(), Is.EqualTo(name));
}
