using Kernel.Sim.Calls;

namespace Kernel.Sim.Tests.Calls;

/// <summary>
/// The concurrent-update stress test of issue 5: callers run a static_call (trampoline and inline site) while another
/// thread updates it back and forth. Every call must reach the old or the new target and the counts must add up.
/// The suite runs a small size; the full size (10M calls, 100,000 updates) is [Explicit].
/// </summary>
public sealed class StaticCallConcurrencyTests
{
    [Test]
    public void CallersSeeOnlyOldOrNewTargetWhileUpdating() => Run(callers: 2, callsPerCaller: 200_000, updates: 2_000);

    [Test]
    [Explicit("full size from issue 5: 10M calls, 100,000 updates; takes tens of seconds")]
    public void FullSizeStress() => Run(callers: 2, callsPerCaller: 5_000_000, updates: 100_000);

    private static void Run(int callers, int callsPerCaller, int updates)
    {
        StressCounters.Reset();
        var call = StaticCall<nint>.Define<CountA>("stress");
        var site = call.Site<StressCaller>("stress_caller");
        var bad = 0L;
        var sum = new long[callers];
        var start = new Barrier(callers + 1);
        var threads = Enumerable.Range(0, callers).Select(c => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < callsPerCaller; i++)
            {
                var r = (i & 1) == 0 ? call.Call(0) : site.Run(0);
                if (r is not (1 or 2))
                    Interlocked.Increment(ref bad);
                sum[c]++;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        start.SignalAndWait();
        for (var u = 0; u < updates; u++)
        {
            if ((u & 1) == 0)
                call.Update<CountB>();
            else
                call.Update<CountA>();
        }

        threads.ForEach(t => t.Join());
        var total = (long)callers * callsPerCaller;
        Assert.That(bad, Is.Zero);
        Assert.That(sum.Sum(), Is.EqualTo(total));
        Assert.That(StressCounters.A + StressCounters.B, Is.EqualTo(total));
        Assert.That(call.Trampoline.Pokes, Is.EqualTo(updates));
    }

    private static class StressCounters
    {
        public static long A;
        public static long B;

        public static void Reset() => A = B = 0;
    }

    private readonly struct CountA : ICallTarget<nint>
    {
        public static int Invoke(nint args)
        {
            Interlocked.Increment(ref StressCounters.A);
            return 1;
        }
    }

    private readonly struct CountB : ICallTarget<nint>
    {
        public static int Invoke(nint args)
        {
            Interlocked.Increment(ref StressCounters.B);
            return 2;
        }
    }

    private readonly struct StressCaller : IStaticCallCaller<nint>
    {
        public static int Run<TTarget>(nint args)
            where TTarget : struct, ICallTarget<nint> => TTarget.Invoke(args);
    }
}
