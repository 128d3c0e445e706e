using System.Globalization;
using System.Text;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// Where bpf_trace_printk output goes: the tracing subsystem's ring buffer implements it later;
/// <see cref="InMemoryTraceSink"/> keeps the lines now.
/// </summary>
public interface ITraceSink
{
    /// <summary>Records one bpf_trace_printk event (the formatted message, trailing newline removed).</summary>
    void TracePrintk(int cpu, ulong pidTgid, ReadOnlySpan<byte> comm, ulong timestampNs, string message);
}

/// <summary>
/// Keeps bpf_trace_printk events as the lines <c>/sys/kernel/tracing/trace</c> prints them with the default
/// options: <c>COMM-PID [CPU] FLAGS TS: bpf_trace_printk: MSG</c> with the comm right-aligned in 16 columns, the
/// pid left-aligned in 7, the CPU as three digits, the irq flags as five dots (irqs on, no preemption state
/// modelled) and the timestamp as seconds.microseconds.
/// </summary>
public sealed class InMemoryTraceSink : ITraceSink
{
    private readonly List<string> _lines = [];
    private readonly Lock _lock = new();

    /// <summary>The lines so far, oldest first.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
                return [.. _lines];
        }
    }

    public void TracePrintk(int cpu, ulong pidTgid, ReadOnlySpan<byte> comm, ulong timestampNs, string message)
    {
        var line = Format(cpu, (int)(uint)pidTgid, Encoding.UTF8.GetString(comm), timestampNs, message);
        lock (_lock)
            _lines.Add(line);
    }

    /// <summary>Empties the buffer (<c>echo &gt; trace</c>).</summary>
    public void Clear()
    {
        lock (_lock)
            _lines.Clear();
    }

    /// <summary>One trace line in the kernel's default layout.</summary>
    public static string Format(int cpu, int pid, string comm, ulong timestampNs, string message) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{comm,16}-{pid,-7} [{cpu:D3}] ..... {timestampNs / 1_000_000_000,5}.{timestampNs / 1000 % 1_000_000:D6}: bpf_trace_printk: {message}");
}
