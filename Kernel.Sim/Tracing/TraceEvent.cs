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

/// <summary>The parts every event's <c>format</c> file shares.</summary>
public static class TraceEventFormat
{
    /// <summary>A format file's start: name, ID and the four common fields of <c>struct trace_entry</c>, then a blank line.</summary>
    public static System.Text.StringBuilder Begin(string name, int id)
    {
        var text = new System.Text.StringBuilder();
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"name: {name}\nID: {id}\nformat:\n");
        text.Append("\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n");
        text.Append("\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n");
        text.Append("\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n");
        text.Append("\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n");
        return text;
    }
}

/// <summary>Reads a trace record's fields as its format describes them: integers by size and sign, <c>__data_loc</c> strings.</summary>
public static class TraceRecordReader
{
    /// <summary>The integer of <paramref name="size"/> bytes at <paramref name="offset"/>, sign-extended when <paramref name="signed"/>; 0 past the record's end.</summary>
    public static long ReadInteger(ReadOnlySpan<byte> record, int offset, int size, bool signed)
    {
        if (offset < 0 || offset + size > record.Length)
            return 0;
        var span = record[offset..];
        return size switch
        {
            1 => signed ? (sbyte)span[0] : span[0],
            2 => signed ? System.Buffers.Binary.BinaryPrimitives.ReadInt16LittleEndian(span) : System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(span),
            4 => signed ? System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(span) : System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(span),
            _ => System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(span),
        };
    }

    /// <summary>
    /// The string a <c>__data_loc</c> word at <paramref name="locOffset"/> points to (offset in the low 16 bits, length
    /// with the NUL in the high 16), up to its NUL, as UTF-8; null when the word points outside the record.
    /// </summary>
    public static string? ReadDataLocString(ReadOnlySpan<byte> record, int locOffset)
    {
        if (locOffset < 0 || locOffset + 4 > record.Length)
            return null;
        var loc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(record[locOffset..]);
        int start = (int)(loc & 0xFFFF), length = (int)(loc >> 16);
        if (length == 0 || start + length > record.Length)
            return null;
        var bytes = record.Slice(start, length);
        var nul = bytes.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(nul < 0 ? bytes : bytes[..nul]);
    }
}
