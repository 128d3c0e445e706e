using System.Buffers.Binary;
using System.Text;

namespace Kernel.Sim.Tracing;

/// <summary>
/// Prints ring-buffer entries in the kernel's layouts: the <c>trace</c> file's header block and context columns
/// (<c>TASK-PID [CPU] FLAGS TIMESTAMP: FUNCTION</c>), the function tracer's <c>ip &lt;-parent</c>, and the
/// function_graph tracer's CPU / duration / call-tree columns with leaf calls folded into <c>foo();</c>.
/// </summary>
public sealed class TraceOutput
{
    private const string GraphSeparator = " ------------------------------------------";

    private readonly TraceArray _trace;

    internal TraceOutput(TraceArray trace) => _trace = trace;

    /// <summary>The <c>trace</c> file: header and every entry of every CPU merged by timestamp (not consumed).</summary>
    public string ReadTrace()
    {
        var text = new StringBuilder();
        WriteHeader(text);
        var records = Records();
        var lastPid = Enumerable.Repeat(-1, _trace.Buffer.CpuCount).ToArray();
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            TraceRecord? leafReturn = null;
            if (record.Type == TraceEntryType.GraphEntry && i + 1 < records.Count && IsReturnOf(record, records[i + 1]))
                leafReturn = records[++i];
            FormatRecord(text, record, leafReturn, lastPid);
        }

        return text.ToString();
    }

    /// <summary>
    /// Every entry in the buffers (not consumed), the CPUs merged by timestamp as the <c>trace</c> file orders them; a
    /// function_graph entry is directly followed by its return when that comes next on its CPU (a leaf call).
    /// </summary>
    public IReadOnlyList<TraceRecord> Records()
    {
        var cpus = Enumerable.Range(0, _trace.Buffer.CpuCount).Select(c => _trace.Buffer.Snapshot(c)).ToArray();
        var at = new int[cpus.Length];
        var merged = new List<TraceRecord>(cpus.Sum(c => c.Count));
        while (true)
        {
            var cpu = -1;
            for (var c = 0; c < cpus.Length; c++)
            {
                if (at[c] < cpus[c].Count && (cpu < 0 || cpus[c][at[c]].TimestampNs < cpus[cpu][at[cpu]].TimestampNs))
                    cpu = c;
            }

            if (cpu < 0)
                return merged;
            var record = cpus[cpu][at[cpu]++];
            merged.Add(record);
            if (record.Type == TraceEntryType.GraphEntry && at[cpu] < cpus[cpu].Count && IsReturnOf(record, cpus[cpu][at[cpu]]))
                merged.Add(cpus[cpu][at[cpu]++]);
        }
    }

    /// <summary>
    /// The <c>trace_pipe</c> file: consumes and prints what is in the buffers now, without a header, reporting
    /// overwritten unread entries as <c>CPU:N [LOST M EVENTS]</c>. Returns empty when nothing is buffered (Linux would block).
    /// </summary>
    public string ReadPipe(int maxEntries = int.MaxValue)
    {
        var text = new StringBuilder();
        var buffer = _trace.Buffer;
        var lastPid = Enumerable.Repeat(-1, buffer.CpuCount).ToArray();
        for (var n = 0; n < maxEntries; n++)
        {
            var cpu = -1;
            long best = long.MaxValue;
            for (var c = 0; c < buffer.CpuCount; c++)
            {
                if (buffer.Peek(c) is { } head && head.TimestampNs < best)
                {
                    best = head.TimestampNs;
                    cpu = c;
                }
            }

            if (cpu < 0)
            {
                // Lost events with nothing left still deserve a line.
                for (var c = 0; c < buffer.CpuCount; c++)
                {
                    if (!buffer.TryConsume(c, out _, out var lostOnly) && lostOnly > 0)
                        TraceArray.AppendInvariant(text, $"CPU:{c} [LOST {lostOnly} EVENTS]\n");
                }

                break;
            }

            buffer.TryConsume(cpu, out var record, out var lost);
            if (lost > 0)
                TraceArray.AppendInvariant(text, $"CPU:{cpu} [LOST {lost} EVENTS]\n");
            TraceRecord? leafReturn = null;
            if (record!.Type == TraceEntryType.GraphEntry && buffer.Peek(cpu) is { } next && IsReturnOf(record, next))
            {
                buffer.TryConsume(cpu, out leafReturn, out _);
            }

            FormatRecord(text, record, leafReturn, lastPid);
        }

        return text.ToString();
    }

    private static bool IsReturnOf(TraceRecord entry, TraceRecord next) =>
        next.Type == TraceEntryType.GraphReturn
        && next.Pid == entry.Pid
        && BinaryPrimitives.ReadUInt64LittleEndian(next.Payload) == BinaryPrimitives.ReadUInt64LittleEndian(entry.Payload)
        && BinaryPrimitives.ReadInt64LittleEndian(next.Payload.AsSpan(8)) == BinaryPrimitives.ReadInt32LittleEndian(entry.Payload.AsSpan(8));

    /// <summary>The header block of the current tracer.</summary>
    public void WriteHeader(StringBuilder text)
    {
        ArgumentNullException.ThrowIfNull(text);
        TraceArray.AppendInvariant(text, $"# tracer: {_trace.CurrentTracer}\n#\n");
        if (_trace.CurrentTracer == "function_graph")
        {
            text.Append("# CPU  DURATION                  FUNCTION CALLS\n");
            text.Append("# |     |   |                     |   |   |   |\n");
            return;
        }

        TraceArray.AppendInvariant(text, $"# entries-in-buffer/entries-written: {_trace.Buffer.Entries}/{_trace.Buffer.EntriesWritten}   #P:{_trace.Core.Cpus.Count}\n");
        text.Append("#\n");
        text.Append("#                                _-----=> irqs-off/BH-disabled\n");
        text.Append("#                               / _----=> need-resched\n");
        text.Append("#                              | / _---=> hardirq/softirq\n");
        text.Append("#                              || / _--=> preempt-depth\n");
        text.Append("#                              ||| / _-=> migrate-disable\n");
        text.Append("#                              |||| /     delay\n");
        text.Append("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n");
        text.Append("#              | |         |   |||||     |         |\n");
    }

    private void FormatRecord(StringBuilder text, TraceRecord record, TraceRecord? leafReturn, int[] lastPid)
    {
        var symbols = _trace.Core.Symbols;
        switch (record.Type)
        {
            case TraceEntryType.GraphEntry:
            case TraceEntryType.GraphReturn:
                FormatGraph(text, record, leafReturn, lastPid);
                return;
            case TraceEntryType.Function:
                AppendContext(text, record);
                var ip = BinaryPrimitives.ReadUInt64LittleEndian(record.Payload);
                var parent = BinaryPrimitives.ReadUInt64LittleEndian(record.Payload.AsSpan(8));
                TraceArray.AppendInvariant(text, $"{symbols.FormatName(ip)} <-{symbols.FormatName(parent)}\n");
                return;
            case TraceEntryType.ProbeEvent:
                AppendContext(text, record);
                var id = BinaryPrimitives.ReadInt32LittleEndian(record.Payload);
                var traceEvent = _trace.FindEvent(id);
                text.Append(traceEvent is null ? TraceArray.Invariant($"Unknown event {id}") : traceEvent.Format(record)).Append('\n');
                return;
            default:
                AppendContext(text, record);
                TraceArray.AppendInvariant(text, $"Unknown type {(int)record.Type}\n");
                return;
        }
    }

    /// <summary>The context columns: <c>          &lt;idle&gt;-0       [000] ..s.. 12.345678: </c>.</summary>
    public void AppendContext(StringBuilder text, TraceRecord record)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(record);
        var comm = _trace.CommOf(record.Pid);
        TraceArray.AppendInvariant(text, $"{comm,16}-{record.Pid,-7} [{record.Cpu:D3}] {LatencyFlags(record)} {Timestamp(record.TimestampNs),12}: ");
    }

    /// <summary>A timestamp as the trace prints it: seconds and microseconds (<c>12.345678</c>).</summary>
    public static string Timestamp(long ns) => TraceArray.Invariant($"{ns / 1_000_000_000}.{ns % 1_000_000_000 / 1000:D6}");

    /// <summary>trace_print_lat_fmt's five flag columns: irqs-off/BH, need-resched, hardirq/softirq, preempt-depth, migrate-disable.</summary>
    public static string LatencyFlags(TraceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var f = record.Flags;
        var irqs = (f & TraceEntryFlags.IrqsOff) != 0
            ? ((f & TraceEntryFlags.BhOff) != 0 ? 'D' : 'd')
            : ((f & TraceEntryFlags.BhOff) != 0 ? 'b' : '.');
        var resched = (f & TraceEntryFlags.NeedResched) != 0 ? 'N' : '.';
        var nmi = (f & TraceEntryFlags.Nmi) != 0;
        var hard = (f & TraceEntryFlags.HardIrq) != 0;
        var soft = (f & TraceEntryFlags.SoftIrq) != 0;
        var irqContext = nmi && hard ? 'Z' : nmi ? 'z' : hard && soft ? 'H' : hard ? 'h' : soft ? 's' : '.';
        var preempt = (record.PreemptCount & 0xf) is var p and > 0 ? "0123456789abcdef"[p] : '.';
        var migrate = (record.PreemptCount >> 4) is var m and > 0 ? "0123456789abcdef"[m] : '.';
        return new string([irqs, resched, irqContext, preempt, migrate]);
    }

    private void FormatGraph(StringBuilder text, TraceRecord record, TraceRecord? leafReturn, int[] lastPid)
    {
        var symbols = _trace.Core.Symbols;
        var cpuColumn = TraceArray.Invariant($" {record.Cpu}) ");
        if (lastPid[record.Cpu] != record.Pid)
        {
            var previous = lastPid[record.Cpu];
            lastPid[record.Cpu] = record.Pid;
            if (previous != -1)
            {
                text.Append(GraphSeparator).Append('\n').Append(cpuColumn);
                AppendProc(text, previous);
                text.Append(" => ");
                AppendProc(text, record.Pid);
                text.Append('\n').Append(GraphSeparator).Append("\n\n");
            }
        }

        var ip = BinaryPrimitives.ReadUInt64LittleEndian(record.Payload);
        var name = symbols.FormatName(ip);
        text.Append(cpuColumn);
        if (record.Type == TraceEntryType.GraphEntry)
        {
            var depth = BinaryPrimitives.ReadInt32LittleEndian(record.Payload.AsSpan(8));
            if (leafReturn is null)
            {
                text.Append("              |  ").Append(' ', depth * 2).Append(name).Append("() {\n");
                return;
            }

            AppendDuration(text, Duration(leafReturn));
            text.Append(' ', depth * 2).Append(name).Append("();\n");
            return;
        }

        var returnDepth = (int)BinaryPrimitives.ReadInt64LittleEndian(record.Payload.AsSpan(8));
        AppendDuration(text, Duration(record));
        text.Append(' ', Math.Max(0, returnDepth) * 2).Append("}\n");
    }

    private static long Duration(TraceRecord graphReturn) =>
        BinaryPrimitives.ReadInt64LittleEndian(graphReturn.Payload.AsSpan(24)) - BinaryPrimitives.ReadInt64LittleEndian(graphReturn.Payload.AsSpan(16));

    /// <summary>print_graph_duration: overhead mark, microseconds with up to 7 digits, <c> us </c>, padding, <c>|  </c>.</summary>
    public static void AppendDuration(StringBuilder text, long durationNs)
    {
        ArgumentNullException.ThrowIfNull(text);
        text.Append(Mark(durationNs)).Append(' ');
        var micros = (durationNs / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var length = micros.Length;
        text.Append(micros);
        if (length < 7)
        {
            var nanos = (durationNs % 1000).ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
            var room = Math.Min(8, 8 - length) - 1;
            nanos = nanos[..Math.Min(nanos.Length, room)];
            text.Append('.').Append(nanos);
            length += nanos.Length + 1;
        }

        text.Append(" us ");
        if (length < 8)
            text.Append(' ', 8 - length);
        text.Append("|  ");
    }

    /// <summary>trace_find_mark: <c>$</c> &gt; 1 s, <c>@</c> &gt; 100 ms, <c>*</c> &gt; 10 ms, <c>#</c> &gt; 1 ms, <c>!</c> &gt; 100 us, <c>+</c> &gt; 10 us.</summary>
    public static char Mark(long durationNs) => durationNs switch
    {
        > 1_000_000_000 => '$',
        > 100_000_000 => '@',
        > 10_000_000 => '*',
        > 1_000_000 => '#',
        > 100_000 => '!',
        > 10_000 => '+',
        _ => ' ',
    };

    private void AppendProc(StringBuilder text, int pid)
    {
        const int procInfoLength = 14;
        var comm = _trace.CommOf(pid);
        var pidText = pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var length = comm.Length + pidText.Length + 1;
        var spaces = length < procInfoLength ? procInfoLength - length : 0;
        var half = spaces / 2;
        text.Append(' ', half).Append(comm).Append('-').Append(pidText).Append(' ', spaces - half);
    }
}
