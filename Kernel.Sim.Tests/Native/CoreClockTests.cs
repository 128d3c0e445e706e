using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Native;

public sealed class CoreClockTests
{
    [Test]
    public void ChainRunsOneAddPerStep()
    {
        NativeTestHost.RequireSupported();
        using var clock = new CoreClock();
        Assert.That(clock.RunChain(1000), Is.EqualTo(1000L * CoreClock.AddsPerIteration));
    }

    [Test]
    public void TimeStampCounterAdvances()
    {
        NativeTestHost.RequireSupported();
        using var clock = new CoreClock();
        var before = clock.ReadTsc();
        clock.RunChain(10_000);
        Assert.That(clock.ReadTsc(), Is.GreaterThan(before));
    }

    [Test]
    public void CalibrationGivesFiniteClocks()
    {
        NativeTestHost.RequireSupported();
        using var clock = new CoreClock();
        clock.Calibrate(repetitions: 2, milliseconds: 2);
        Assert.That(double.IsFinite(clock.TscGhz) && clock.TscGhz > 0, Is.True, $"TSC {clock.TscGhz} GHz");
        Assert.That(double.IsFinite(clock.CoreGhz) && clock.CoreGhz > 0, Is.True, $"core {clock.CoreGhz} GHz");
    }
}
