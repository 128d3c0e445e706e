using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Kernel.Sim.Net;

/// <summary>
/// The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID) where the OS offers it, wall time otherwise. On a machine
/// shared with other work, CPU time measures what the path costs on a core; wall time would add time spent waiting
/// for a core and time the runtime's background JIT took.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int ClockThreadCputimeId = 3;

    private static readonly bool Available = OperatingSystem.IsLinux() && TryRead(out _);

    /// <summary>Whether <see cref="NowNs"/> is thread CPU time (else wall time).</summary>
    public static bool IsCpuTime => Available;

    /// <summary>Now, in ns, on the clock this class uses.</summary>
    public static long NowNs()
    {
        if (Available && TryRead(out var ns))
            return ns;
        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    private static bool TryRead(out long ns)
    {
        try
        {
            var ts = default(Timespec);
            if (ClockGettime(ClockThreadCputimeId, ref ts) == 0)
            {
                ns = (ts.Seconds * 1_000_000_000L) + ts.Nanoseconds;
                return true;
            }
        }
        catch (DllNotFoundException)
        {
        }
        catch (EntryPointNotFoundException)
        {
        }

        ns = 0;
        return false;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGettime(int clock, ref Timespec ts);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
