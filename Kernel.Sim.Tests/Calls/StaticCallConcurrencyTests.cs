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
        var updating = 1;
        var sum = new long[callers];
        var start = new Barrier(callers + 1);
        var threads = Enumerable.Range(0, callers).Select(c => new Thread(() =>
        {
            start.SignalAndWait();
            // At least the quota, and on until the updater is done, so every update races with callers.
            for (var i = 0; i < callsPerCaller || Volatile.Read(ref updating) == 1; i++)
            {
                var r = (i & 1) == 0 ? call.Call(0) : site.Run(0);
                if (r is not (1 or 2))
                    Interlocked.Increment(ref bad);
                Volatile.Write(ref sum[c], sum[c] + 1);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        start.SignalAndWait();
        for (var u = 0; u < updates; u++)
        {
            var before = Calls(sum);
            if ((u & 1) == 0)
                call.Update<CountB>();
            else
                call.Update<CountA>();

            // Let at least one call run against each state, so every update really races with callers even when
            // the loaded machine deschedules a thread.
            while (Calls(sum) == before)
                Thread.Yield();
        }

        Volatile.Write(ref updating, 0);
        threads.ForEach(t => t.Join());
        var total = sum.Sum();
        Assert.That(bad, Is.Zero);
        Assert.That(total, Is.GreaterThanOrEqualTo((long)callers * callsPerCaller));
        Assert.That(StressCounters.A + StressCounters.B, Is.EqualTo(total));
        Assert.That(StressCounters.A, Is.Positive);
        Assert.That(StressCounters.B, Is.Positive);
        Assert.That(call.Trampoline.Pokes, Is.EqualTo(updates));
    }

    private static long Calls(long[] perCaller)
    {
        var total = 0L;
        for (var i = 0; i < perCaller.Length; i++)
            total += Volatile.Read(ref perCaller[i]);
        return total;
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
