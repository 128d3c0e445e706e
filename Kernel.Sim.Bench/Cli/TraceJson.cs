using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Kernel.Sim.Tracing;
using Kernel.Sim.Tracing.ProbeEvents;

namespace Kernel.Sim.Bench.Cli;

/// <summary>
/// The trace buffer's entries as JSON objects for <c>kernelsim trace --json</c>: the context every entry has (CPU,
/// task, pid, latency flags, timestamp) and, per type, the function and parent (function tracer), the function, depth
/// and duration (function_graph), or the event, its printed text and its decoded fields (probe events and tracepoints),
/// in the order of the <c>trace</c> file.
/// </summary>
internal static class TraceJson
{
    public static List<Dictionary<string, object?>> Entries(TraceArray trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var symbols = trace.Core.Symbols;
        var entries = new List<Dictionary<string, object?>>();
        foreach (var record in trace.Output.Records())
        {
            var entry = new Dictionary<string, object?>
            {
                ["cpu"] = record.Cpu,
                ["task"] = trace.CommOf(record.Pid),
                ["pid"] = record.Pid,
                ["flags"] = TraceOutput.LatencyFlags(record),
                ["timestamp"] = string.Create(CultureInfo.InvariantCulture, $"{record.TimestampNs / 1_000_000_000}.{record.TimestampNs % 1_000_000_000 / 1000:D6}"),
                ["timestamp_ns"] = record.TimestampNs,
            };
            var payload = record.Payload;
            switch (record.Type)
            {
                case TraceEntryType.Function:
                    entry["type"] = "function";
                    entry["function"] = symbols.FormatName(BinaryPrimitives.ReadUInt64LittleEndian(payload));
                    entry["parent"] = symbols.FormatName(BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(8)));
                    break;
                case TraceEntryType.GraphEntry:
                    entry["type"] = "graph_entry";
                    entry["function"] = symbols.FormatName(BinaryPrimitives.ReadUInt64LittleEndian(payload));
                    entry["depth"] = BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(8));
                    break;
                case TraceEntryType.GraphReturn:
                    entry["type"] = "graph_return";
                    entry["function"] = symbols.FormatName(BinaryPrimitives.ReadUInt64LittleEndian(payload));
                    entry["depth"] = BinaryPrimitives.ReadInt64LittleEndian(payload.AsSpan(8));
                    entry["duration_ns"] = BinaryPrimitives.ReadInt64LittleEndian(payload.AsSpan(24)) - BinaryPrimitives.ReadInt64LittleEndian(payload.AsSpan(16));
                    break;
                case TraceEntryType.ProbeEvent:
                    var id = BinaryPrimitives.ReadInt32LittleEndian(payload);
                    var traceEvent = trace.FindEvent(id);
                    entry["type"] = traceEvent is ITracepoint ? "tracepoint" : "probe_event";
                    entry["event"] = traceEvent is null ? null : $"{traceEvent.Group}:{traceEvent.Name}";
                    entry["text"] = traceEvent?.Format(record) ?? string.Create(CultureInfo.InvariantCulture, $"Unknown event {id}");
                    var fields = traceEvent switch
                    {
                        ITracepoint t => t.Fields,
                        ProbeEvent p => p.Fields,
                        _ => null,
                    };
                    if (fields is not null)
                        entry["fields"] = Decode(payload, fields);
                    break;
                default:
                    entry["type"] = ((int)record.Type).ToString(CultureInfo.InvariantCulture);
                    break;
            }

            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>Integers as numbers (by size and sign), <c>__data_loc</c> strings as strings; arrays are left to the text.</summary>
    private static Dictionary<string, object?> Decode(byte[] payload, IReadOnlyList<TraceEventField> fields)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var f in fields)
        {
            if (f.IsArray || f.Offset + f.Size > payload.Length)
                continue;
            var span = payload.AsSpan(f.Offset);
            if (f.IsString)
            {
                var loc = BinaryPrimitives.ReadUInt32LittleEndian(span);
                int start = (int)(loc & 0xFFFF), length = (int)(loc >> 16);
                if (length == 0 || start + length > payload.Length)
                {
                    values[f.Name] = null;
                    continue;
                }

                var bytes = payload.AsSpan(start, length);
                var nul = bytes.IndexOf((byte)0);
                values[f.Name] = Encoding.UTF8.GetString(nul < 0 ? bytes : bytes[..nul]);
                continue;
            }

            values[f.Name] = (f.Size, f.Signed) switch
            {
                (1, true) => (sbyte)span[0],
                (1, false) => span[0],
                (2, true) => BinaryPrimitives.ReadInt16LittleEndian(span),
                (2, false) => BinaryPrimitives.ReadUInt16LittleEndian(span),
                (4, true) => BinaryPrimitives.ReadInt32LittleEndian(span),
                (4, false) => BinaryPrimitives.ReadUInt32LittleEndian(span),
                (_, true) => BinaryPrimitives.ReadInt64LittleEndian(span),
                _ => (object)BinaryPrimitives.ReadUInt64LittleEndian(span),
            };
        }

        return values;
    }
}
