using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Native;

public sealed class CallLoopImageTests
{
    // More than one table length, so the cyclic walk and its index mask are exercised too.
    private const long Calls = CallLoopImage.TableLength + 1234;

    private static IEnumerable<TestCaseData> EveryMechanismAndPattern() =>
        from m in NativeMechanisms.All
        from p in Enum.GetValues<TargetPattern>()
        select new TestCaseData(m, p).SetArgDisplayNames(m.Name(), p.Name());

    [TestCaseSource(nameof(EveryMechanismAndPattern))]
    public void LoopReturnsTheChainValueAndCallsTheRightTargets(NativeMechanism mechanism, TargetPattern pattern)
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: true, patchable: false);
        using var table = new TargetTable(image, pattern, seed: 7);
        const long x = 1000;

        var value = image.Run(mechanism, table, Calls, x);

        long[] expected;
        if (CallLoopImage.FollowsTable(mechanism))
        {
            expected = table.CallsPerTarget(Calls);
            Assert.That(value, Is.EqualTo(table.ExpectedResult(Calls, x)));
        }
        else
        {
            expected = new long[CallLoopImage.TargetCount];
            expected[0] = Calls;
            Assert.That(value, Is.EqualTo(x + Calls));
        }

        var counts = Enumerable.Range(0, CallLoopImage.TargetCount).Select(image.Count).ToArray();
        Assert.That(counts, Is.EqualTo(expected));
    }

    [Test]
    public void ZeroCallsReturnTheStartValueAndCallNothing()
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: true, patchable: false);
        using var table = new TargetTable(image, TargetPattern.Random);
        Assert.That(image.Run(NativeMechanism.Retpoline, table, 0, 42), Is.EqualTo(42));
        Assert.That(Enumerable.Range(0, CallLoopImage.TargetCount).Sum(k => image.Count(k)), Is.Zero);
    }

    [Test]
    public void GuardMissNeverCallsItsCandidate()
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: true, patchable: false);
        using var table = new TargetTable(image, TargetPattern.Random);
        image.Run(NativeMechanism.GuardMiss, table, 5000, 0);
        Assert.That(image.Count(CallLoopImage.TargetCount - 1), Is.Zero);
        Assert.That(Enumerable.Range(0, CallLoopImage.PatternTargets).Sum(k => image.Count(k)), Is.EqualTo(5000));
    }

    [Test]
    public void NegativeCallCountIsRejected()
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: false, patchable: false);
        using var table = new TargetTable(image, TargetPattern.Mono);
        Assert.That(() => image.Run(NativeMechanism.Direct, table, -1, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
