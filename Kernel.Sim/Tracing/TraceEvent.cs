namespace Kernel.Sim.Tracing;

/// <summary>
/// A trace event that writes <see cref="TraceEntryType.ProbeEvent"/> entries (a kprobe event, later a tracepoint):
/// it knows how to print its own entries after the context columns.
/// </summary>
public interface ITraceEvent
{
    /// <summary>The event id (events/GROUP/EVENT/id); the first 4 bytes of every payload it writes.</summary>
    int Id { get; }

    /// <summary>The group (system), e.g. <c>kprobes</c>.</summary>
    string Group { get; }

    /// <summary>The event name.</summary>
    string Name { get; }

    /// <summary>The text after <c>TIMESTAMP: </c> (<c>myprobe: (ip_rcv+0x0/0x1a0) len=60</c>).</summary>
    string Format(TraceRecord record);
}

/// <summary>
/// A field of an event's record as its <c>format</c> file lists it: the offset in the entry (after the 8-byte common
/// header's start), size and signedness; strings are <c>__data_loc</c> words (offset | length &lt;&lt; 16).
/// </summary>
public sealed record TraceEventField(string Name, int Offset, int Size, bool Signed, bool IsString = false, bool IsArray = false);

/// <summary>
/// A tracepoint the kernel itself defines (a static <c>TRACE_EVENT</c>, e.g. <c>net:netif_receive_skb</c>), as
/// tracefs shows it under <c>events/GROUP/EVENT/{enable,filter,format,id}</c> and in <c>available_events</c>.
/// </summary>
public interface ITracepoint : ITraceEvent
{
    /// <summary>events/GROUP/EVENT/enable.</summary>
    bool Enabled { get; set; }

    /// <summary>The record's fields after the common ones (what a filter may name).</summary>
    IReadOnlyList<TraceEventField> Fields { get; }

    /// <summary>The filter entries must pass (events/GROUP/EVENT/filter); null: none.</summary>
    ProbeEvents.EventFilter? Filter { get; set; }

    /// <summary>events/GROUP/EVENT/format, as Linux writes it.</summary>
    string FormatFile();
}
