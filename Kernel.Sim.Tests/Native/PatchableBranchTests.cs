using Kernel.Sim.Native;

namespace Kernel.Sim.Tests.Native;

public sealed class PatchableBranchTests
{
    private static IEnumerable<TestCaseData> Sites() =>
    [
        new TestCaseData(NativeMechanism.StaticCall).SetArgDisplayNames("inline"),
        new TestCaseData(NativeMechanism.StaticCallTrampoline).SetArgDisplayNames("trampoline"),
    ];

    private static PatchableBranch Site(CallLoopImage image, NativeMechanism mechanism) =>
        (mechanism == NativeMechanism.StaticCall ? image.StaticCallSite : image.TrampolineSite)!;

    [TestCaseSource(nameof(Sites))]
    public void RetargetedSiteCallsTheNewTarget(NativeMechanism mechanism)
    {
        NativeTestHost.RequirePatching();
        using var image = new CallLoopImage(countCalls: true, patchable: true);
        using var table = new TargetTable(image, TargetPattern.Mono);
        var site = Site(image, mechanism);
        Assert.That(site.Target, Is.EqualTo(image.TargetAddress(0)));

        site.Retarget(image.TargetAddress(3));

        Assert.That(site.Target, Is.EqualTo(image.TargetAddress(3)));
        Assert.That(image.Run(mechanism, table, 100, 0), Is.EqualTo(400));
        Assert.That(image.Count(3), Is.EqualTo(100));
        Assert.That(image.Count(0), Is.Zero);
    }

    /// <summary>
    /// Two threads run the patched loop millions of times while this thread flips its target between A and B
    /// thousands of times. A torn instruction would crash the process (SIGILL/SIGSEGV) or reach a stray address;
    /// exact counts show that every call reached A or B and returned through it. Flipping goes on until enough
    /// chunks of calls have overlapped flips (run while the site changed under them), however the scheduler
    /// places the threads on a loaded machine.
    /// </summary>
    [TestCaseSource(nameof(Sites))]
    public void LivePatchingNeverExecutesATornInstruction(NativeMechanism mechanism)
    {
        NativeTestHost.RequirePatching();
        const long Chunk = 20_000;
        const long MinimumCalls = 2_000_000;
        const int MinimumFlips = 4_000;
        const int MinimumOverlappingChunks = 40;
        using var image = new CallLoopImage(countCalls: true, patchable: true);
        using var table = new TargetTable(image, TargetPattern.Mono);
        var site = Site(image, mechanism);
        var a = image.TargetAddress(0);
        var b = image.TargetAddress(1);
        long calls = 0, sum = 0, overlapping = 0, flips = 0;
        var flipping = true;
        var errors = new List<Exception>();

        void RunLoop()
        {
            try
            {
                while (Volatile.Read(ref flipping) || Interlocked.Read(ref calls) < MinimumCalls)
                {
                    var flipsBefore = Interlocked.Read(ref flips);
                    // Target k adds k + 1 to the chain: the sum tells which targets returned, independently of the counters.
                    var delta = image.Run(mechanism, table, Chunk, 0);
                    Interlocked.Add(ref calls, Chunk);
                    Interlocked.Add(ref sum, delta);
                    if (Interlocked.Read(ref flips) > flipsBefore + 1)
                        Interlocked.Increment(ref overlapping);
                }
            }
            catch (Exception e)
            {
                lock (errors)
                    errors.Add(e);
            }
        }

        var runners = new[] { new Thread(RunLoop), new Thread(RunLoop) };
        foreach (var runner in runners)
            runner.Start();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((Interlocked.Read(ref flips) < MinimumFlips || Interlocked.Read(ref overlapping) < MinimumOverlappingChunks) && DateTime.UtcNow < deadline)
        {
            site.Retarget(flips % 2 == 0 ? b : a);
            Interlocked.Increment(ref flips);
        }

        Volatile.Write(ref flipping, false);
        foreach (var runner in runners)
            runner.Join();

        Assert.That(errors, Is.Empty);
        var countA = image.Count(0);
        var countB = image.Count(1);
        var state = $"flips {flips}, overlapping chunks {overlapping}, calls {calls}, A {countA}, B {countB}";
        Assert.Multiple(() =>
        {
            Assert.That(overlapping, Is.GreaterThanOrEqualTo(MinimumOverlappingChunks), "runners executed while the site changed: " + state);
            Assert.That(countA + countB, Is.EqualTo(calls), "every call reached A or B: " + state);
            Assert.That(countA + 2 * countB, Is.EqualTo(sum), "every call returned A's or B's value: " + state);
            Assert.That(image.Count(2) + image.Count(3) + image.Count(4), Is.Zero);
            Assert.That(countA, Is.Positive, state);
            Assert.That(countB, Is.Positive, state);
        });
    }

    [Test]
    public void BranchThatCrossesAnEightByteWordIsRefused()
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: false, patchable: true);
        var aligned = image.StaticCallSite!.Address;
        Assert.That(aligned % 8, Is.Zero, "loop tops are 16-byte aligned");
        Assert.That(() => new PatchableBranch(image.Memory, aligned + 4, 0xE8), Throws.InvalidOperationException.With.Message.Contains("crosses"));
    }

    [Test]
    public void SiteWithoutTheExpectedOpcodeIsRefused()
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: false, patchable: true);
        Assert.That(() => new PatchableBranch(image.Memory, image.StaticCallSite!.Address, 0xE9), Throws.InvalidOperationException.With.Message.Contains("expected opcode"));
    }

    [Test]
    public void NonPatchableImageHasNoSites()
    {
        NativeTestHost.RequireSupported();
        using var image = new CallLoopImage(countCalls: false, patchable: false);
        Assert.That(image.StaticCallSite, Is.Null);
        Assert.That(image.TrampolineSite, Is.Null);
    }
}
