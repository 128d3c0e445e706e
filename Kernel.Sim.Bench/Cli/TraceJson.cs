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
                ["timestamp"] = TraceOutput.Timestamp(record.TimestampNs),
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
            if (f.IsString)
            {
                values[f.Name] = TraceRecordReader.ReadDataLocString(payload, f.Offset);
                continue;
            }

            var value = TraceRecordReader.ReadInteger(payload, f.Offset, f.Size, f.Signed);
            values[f.Name] = f.Signed || f.Size < 8 ? value : (ulong)value;
        }

        return values;
    }
}
