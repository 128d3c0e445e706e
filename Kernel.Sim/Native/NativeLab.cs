using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Kernel.Sim.Native;

/// <summary>
/// The native call-site lab: the call shapes of Spectre-v2-era Linux (direct, indirect, retpoline, lfence thunk,
/// INDIRECT_CALL guard, static_call inline and trampoline) as real x86-64 machine code generated with Iced, timed
/// on this host in nanoseconds and core cycles. Needs Linux on x86-64 and executable mappings; elsewhere
/// <see cref="IsSupported"/> is false with a <see cref="UnsupportedReason"/> and <see cref="Run"/> says so.
/// </summary>
public static class NativeLab
{
    private static readonly Lazy<string?> Probe = new(ProbeHost);

    /// <summary>True on x86-64 Linux where executable memory can be mapped.</summary>
    public static bool IsSupported => Probe.Value == null;

    /// <summary>Why the lab cannot run here, or null when it can.</summary>
    public static string? UnsupportedReason => Probe.Value;

    /// <summary>
    /// Measures every requested mechanism under each of its patterns. The calling thread is pinned to its CPU for
    /// the duration. Returns an unsupported report (never throws for that reason) on a host without the lab.
    /// </summary>
    public static NativeLabReport Run(NativeLabOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.SimulateUnsupported != null)
            return NativeLabReport.Unsupported(options.SimulateUnsupported);
        if (UnsupportedReason is { } reason)
            return NativeLabReport.Unsupported(reason);

        using var pinning = new ThreadPinning();
        using var clock = new CoreClock();
        using var image = new CallLoopImage(countCalls: false, patchable: false);
        var tables = new Dictionary<TargetPattern, TargetTable>();
        try
        {
            foreach (var pattern in Enum.GetValues<TargetPattern>())
                tables[pattern] = new TargetTable(image, pattern, options.Seed);
            clock.Calibrate();
            var results = new List<NativeLabResult>();
            foreach (var mechanism in options.Mechanisms ?? NativeMechanisms.All)
            {
                foreach (var pattern in mechanism.Patterns())
                    results.Add(Measure(image, clock, tables[pattern], mechanism, options));
            }

            var (retarget, retargetUnavailable) = MeasureRetarget(clock, pinning, options);

            // Measure the clock again at the end and keep the mean: turbo may have moved it during the runs.
            var tsc = clock.TscGhz;
            var core = clock.CoreGhz;
            clock.Calibrate();
            return new NativeLabReport(true, null, (tsc + clock.TscGhz) / 2, (core + clock.CoreGhz) / 2, options.Calls, options.Repetitions, pinning.Pinned, results)
            {
                Retarget = retarget,
                RetargetUnavailable = retargetUnavailable,
            };
        }
        finally
        {
            foreach (var table in tables.Values)
                table.Dispose();
        }
    }

    private static NativeLabResult Measure(CallLoopImage image, CoreClock clock, TargetTable table, NativeMechanism mechanism, NativeLabOptions options)
    {
        const long x = 1;
        var expected = CallLoopImage.FollowsTable(mechanism) ? table.ExpectedResult(options.Calls, x) : x + options.Calls;
        for (var w = 0; w < options.Warmups; w++)
            image.Run(mechanism, table, options.Calls, x);
        var ns = new double[options.Repetitions];
        var cycles = new double[options.Repetitions];
        for (var r = 0; r < options.Repetitions; r++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var c0 = clock.ReadTsc();
            var value = image.Run(mechanism, table, options.Calls, x);
            var c1 = clock.ReadTsc();
            var t1 = Stopwatch.GetTimestamp();
            if (value != expected)
                throw new InvalidOperationException($"{mechanism.Name()}/{table.Pattern.Name()}: generated loop returned {value}, expected {expected}");
            ns[r] = (t1 - t0) * 1e9 / Stopwatch.Frequency / options.Calls;
            cycles[r] = (c1 - c0) * clock.CyclesPerTick / options.Calls;
        }

        return new NativeLabResult(mechanism, table.Pattern, NativeLabStatistic.Of(ns), NativeLabStatistic.Of(cycles));
    }

    /// <summary>
    /// Times single retargets of the inline static_call (alternating between two targets) while another thread of
    /// the process executes the site, so membarrier has a CPU to interrupt as text_poke_bp's sync IPIs do.
    /// </summary>
    private static ((NativeLabStatistic, NativeLabStatistic)?, string?) MeasureRetarget(CoreClock clock, ThreadPinning pinning, NativeLabOptions options)
    {
        const int PerRepetition = 16;
        try
        {
            using var image = new CallLoopImage(countCalls: false, patchable: true);
            using var table = new TargetTable(image, TargetPattern.Mono);
            var site = image.StaticCallSite!;
            var targets = new[] { image.TargetAddress(1), image.TargetAddress(0) };
            var running = true;
            var executor = new Thread(() =>
            {
                // Off the measuring CPU, or membarrier finds no other CPU running this process and sends no IPI.
                pinning.MoveCallerToOtherCpus();
                while (Volatile.Read(ref running))
                    image.Run(NativeMechanism.StaticCall, table, 10_000, 0);
            }) { IsBackground = true, Name = "lab site executor" };
            executor.Start();
            try
            {
                site.Retarget(targets[0]);
                var ns = new double[options.Repetitions];
                var cycles = new double[options.Repetitions];
                for (var r = 0; r < options.Repetitions; r++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    var c0 = clock.ReadTsc();
                    for (var i = 0; i < PerRepetition; i++)
                        site.Retarget(targets[i & 1]);
                    var c1 = clock.ReadTsc();
                    var t1 = Stopwatch.GetTimestamp();
                    ns[r] = (t1 - t0) * 1e9 / Stopwatch.Frequency / PerRepetition;
                    cycles[r] = (c1 - c0) * clock.CyclesPerTick / PerRepetition;
                }

                return ((NativeLabStatistic.Of(ns), NativeLabStatistic.Of(cycles)), null);
            }
            finally
            {
                Volatile.Write(ref running, false);
                executor.Join();
            }
        }
        catch (NativeLabException e)
        {
            return (null, e.Message);
        }
    }

    private static string? ProbeHost()
    {
        if (!OperatingSystem.IsLinux())
            return $"the native lab needs Linux (mmap, memfd, membarrier); this is {RuntimeInformation.OSDescription}";
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return $"the native lab generates x86-64 code; this process is {RuntimeInformation.ProcessArchitecture}";
        try
        {
            using var clock = new CoreClock();
            var before = clock.ReadTsc();
            if (clock.RunChain(1) != CoreClock.AddsPerIteration || clock.ReadTsc() < before)
                return "generated code did not run as expected";
            return null;
        }
        catch (Exception e) when (e is NativeLabException or DllNotFoundException or EntryPointNotFoundException)
        {
            return $"executable memory is not available: {e.Message}";
        }
    }
}
