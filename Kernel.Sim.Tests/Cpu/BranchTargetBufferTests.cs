using Kernel.Sim.Cpu;

namespace Kernel.Sim.Tests.Cpu;

public sealed class BranchTargetBufferTests
{
    private const ulong Site = 0xffff_ffff_8123_4560;
    private static readonly ulong[] Targets = [0xffff_ffff_8140_0000, 0xffff_ffff_8140_0100, 0xffff_ffff_8140_0200, 0xffff_ffff_8140_0300];

    [Test]
    public void LearnsASingleTarget() => Assert.That(MissRate(_ => Targets[0]), Is.LessThan(0.01));

    [Test]
    public void LearnsAnAlternatingPattern() => Assert.That(MissRate(i => Targets[i & 1]), Is.LessThan(0.01));

    [Test]
    public void CannotLearnARandomPattern()
    {
        var random = new Random(7);
        Assert.That(MissRate(_ => Targets[random.Next(4)]), Is.GreaterThan(0.5));
    }

    [Test]
    public void WithoutHistoryAnAlternatingPatternAlwaysMisses()
    {
        var btb = new BranchTargetBuffer(CpuProfiles.Skylake with { BtbHistoryBits = 0 });
        var misses = Enumerable.Range(0, 1000).Count(i => !btb.Predict(Site, Targets[i & 1]));
        Assert.That(misses, Is.EqualTo(1000));
    }

    [Test]
    public void FlushForgetsEverything()
    {
        var btb = new BranchTargetBuffer(CpuProfiles.Skylake);
        for (var i = 0; i < 10; i++)
            btb.Predict(Site, Targets[0]);
        btb.Flush();
        Assert.That(btb.Predict(Site, Targets[0]), Is.False);
    }

    private static double MissRate(Func<int, ulong> target)
    {
        var btb = new BranchTargetBuffer(CpuProfiles.Skylake);
        for (var i = 0; i < 1000; i++)
            btb.Predict(Site, target(i));
        var misses = 0;
        for (var i = 1000; i < 11000; i++)
        {
            if (!btb.Predict(Site, target(i)))
                misses++;
        }

        return misses / 10000.0;
    }
}
