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
