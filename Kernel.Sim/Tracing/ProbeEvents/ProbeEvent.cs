using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing.ProbeEvents;

/// <summary>One fetch argument of a probe event: its name, type, the text it was defined with, and its fetch chain.</summary>
public sealed class ProbeArgument(string name, FetchType type, string definition, FetchStep[] steps, FetchStore store)
{
    public string Name { get; } = name;

    public FetchType Type { get; } = type;

    /// <summary>The argument as written after <c>NAME=</c> (kprobe_events lists it back).</summary>
    public string Definition { get; } = definition;

    /// <summary>The value steps, run in order through virtual calls.</summary>
    public IReadOnlyList<FetchStep> Steps { get; } = steps;

    public FetchStore Store { get; } = store;

    /// <summary>Offset of the field in the entry.</summary>
    public int Offset { get; internal set; }

    internal FetchStep[] StepArray { get; } = steps;
}

/// <summary>
/// A kprobe event (<c>p:</c>) or kretprobe event (<c>r:</c>) defined through kprobe_events: its kprobe, its fetch
/// arguments, its entries and how they print, its <c>format</c> file, and its enable state and hit counts.
/// </summary>
public sealed class ProbeEvent : ITraceEvent
{
    private readonly TraceArray _trace;
    private long _hits;

    internal ProbeEvent(TraceArray trace, int id, string group, string name, bool isReturn, string? symbol, ulong offset, ulong address, int maxActive, IReadOnlyList<ProbeArgument> arguments, char kind = '\0', string? source = null)
    {
        Kind = kind == '\0' ? (isReturn ? 'r' : 'p') : kind;
        Source = source;
        _trace = trace;
        Id = id;
        Group = group;
        Name = name;
        IsReturn = isReturn;
        Symbol = symbol;
        Offset = offset;
        Address = address;
        MaxActive = maxActive;
        Arguments = arguments;
        _argumentArray = [.. arguments];
        var at = HeaderSize;
        foreach (var argument in arguments)
        {
            argument.Offset = at;
            at += argument.Type.FieldSize;
        }

        FixedSize = at;
    }

    public int Id { get; }

    /// <summary><c>p</c>, <c>r</c> (kprobe_events), <c>f</c> (fprobe, dynamic_events only) or <c>F</c> (function_events).</summary>
    public char Kind { get; }

    /// <summary>For a function event, the text it was defined with.</summary>
    public string? Source { get; }

    public string Group { get; }

    public string Name { get; }

    public bool IsReturn { get; }

    /// <summary>The probed symbol (null for an address probe).</summary>
    public string? Symbol { get; }

    public ulong Offset { get; }

    /// <summary>The probed address.</summary>
    public ulong Address { get; }

    /// <summary>The MAXACTIVE written after <c>r</c> (0 when not given).</summary>
    public int MaxActive { get; }

    public IReadOnlyList<ProbeArgument> Arguments { get; }

    /// <summary>The arguments as record fields (what filters name and what the format file lists); built once.</summary>
    public IReadOnlyList<TraceEventField> Fields => _fields ??= [.. Arguments.Select(a => new TraceEventField(
        a.Name, a.Offset, a.Type.Size, a.Type.IsSigned, a.Type.Kind == FetchKind.String, a.Type.ArrayLength > 0))];

    private TraceEventField[]? _fields;

    // The hit path walks an array: foreach over the IReadOnlyList would box an enumerator on every hit.
    private readonly ProbeArgument[] _argumentArray;

    /// <summary>Bytes before the arguments: the 8 common bytes, then __probe_ip (or __probe_func and __probe_ret_ip).</summary>
    public int HeaderSize => IsReturn ? 24 : 16;

    /// <summary>Bytes of the fixed part of an entry.</summary>
    public int FixedSize { get; }

    /// <summary>events/GROUP/EVENT/filter: entries failing it are discarded; null = none.</summary>
    public EventFilter? Filter
    {
        get => _filter;
        internal set
        {
            _filter = value;
            RebuildBpf();
        }
    }

    private EventFilter? _filter;
    private Bpf.BpfFetchProgram? _bpf;

    /// <summary>The fetch program when the BPF fetch engine runs this event (null: the classic fetch chain).</summary>
    public Bpf.BpfFetchProgram? BpfProgram => Volatile.Read(ref _bpf);

    /// <summary>Builds this event's BPF fetch program; null while the classic engine is selected.</summary>
    internal Func<ProbeEvent, Bpf.BpfFetchProgram?>? BpfFactory { get; set; }

    /// <summary>
    /// Regenerates the BPF program (engine switch, new filter). The previous program is not freed: a CPU may still be
    /// running it; its buffer goes when the event is removed.
    /// </summary>
    internal void RebuildBpf()
    {
        var next = BpfFactory?.Invoke(this);
        var previous = Interlocked.Exchange(ref _bpf, next);
        if (previous is not null)
            _retired.Add(previous);
    }

    private readonly List<Bpf.BpfFetchProgram> _retired = [];

    /// <summary>Frees every BPF program this event had (after its probe is unregistered).</summary>
    internal void DisposeBpf()
    {
        BpfFactory = null;
        RebuildBpf();
        foreach (var program in _retired)
            program.Dispose();
        _retired.Clear();
    }

    /// <summary>The last rejected filter text and its error, shown by the filter file.</summary>
    internal (string Text, EventFilterException Error)? FilterError { get; set; }

    /// <summary>events/GROUP/EVENT/enable.</summary>
    public bool Enabled { get; internal set; }

    /// <summary>kprobe_profile's hit count.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>kprobe_profile's miss count (the kprobe's and, for a return probe, the kretprobe's nmissed).</summary>
    public long Misses => (Kprobe?.NMissed ?? 0) + (Kretprobe?.NMissed ?? 0);

    internal Kprobe? Kprobe { get; set; }

    internal Kretprobe? Kretprobe { get; set; }

    /// <summary>The definition as kprobe_events lists it: <c>p:kprobes/myprobe ip_rcv skb=%di</c>.</summary>
    public string Definition
    {
        get
        {
            if (Kind == 'F')
                return Source!;
            var text = new StringBuilder();
            text.Append(Kind == 'F' ? 'p' : Kind);
            if (IsReturn && MaxActive > 0)
                text.Append(CultureInfo.InvariantCulture, $"{MaxActive}");
            text.Append(CultureInfo.InvariantCulture, $":{Group}/{Name}");
            if (Kind == 'f')
                text.Append(CultureInfo.InvariantCulture, $" {Symbol}{(IsReturn ? "%return" : string.Empty)}");
            else if (Symbol is null)
                text.Append(CultureInfo.InvariantCulture, $" 0x{Address:x16}");
            else if (Offset != 0)
                text.Append(CultureInfo.InvariantCulture, $" {Symbol}+{Offset}");
            else
                text.Append(CultureInfo.InvariantCulture, $" {Symbol}");
            foreach (var argument in Arguments)
                text.Append(CultureInfo.InvariantCulture, $" {argument.Name}={argument.Definition}");
            return text.ToString();
        }
    }

    /// <summary>Whether a return probe fetches entry arguments ($argN or parameter names), saved at entry.</summary>
    public bool NeedsEntryArguments => IsReturn && Arguments.Any(a => a.Steps.Any(s => s is FetchArgument));

    /// <summary>Fetches the arguments and writes one entry (kprobe_trace_func / kretprobe_trace_func).</summary>
    internal unsafe void Record(ref PtRegs regs, ulong returnIp, ulong* entryArguments = null)
    {
        var cpu = _trace.Core.Cpus.RequireCurrent();
        Interlocked.Increment(ref _hits);
        if (Volatile.Read(ref _bpf) is { } program)
        {
            var record = program.Record(cpu.Id, ref regs, returnIp, entryArguments);
            // The program returns 0 when its compiled filter drops the entry; a filter it could not compile runs here.
            if (record.IsEmpty || (_filter is { } f && !ReferenceEquals(f, program.Filter) && !f.Matches(record, cpu.CurrentTask.Pid)))
                return;
            _trace.Write(cpu, TraceEntryType.ProbeEvent, record);
            return;
        }

        Span<byte> entry = stackalloc byte[FixedSize + 1024];
        entry.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(entry, Id);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], Address);
        if (IsReturn)
            BinaryPrimitives.WriteUInt64LittleEndian(entry[16..], returnIp);
        var dynamicAt = FixedSize;
        fixed (PtRegs* pointer = &regs)
        {
            foreach (var argument in _argumentArray)
            {
                var state = new FetchState { Regs = pointer, EntryArguments = entryArguments, Memory = _trace.Core.Memory, Cpu = cpu };
                foreach (var step in argument.StepArray)
                {
                    step.Run(ref state);
                    if (state.Faulted)
                        break;
                }

                var field = entry.Slice(argument.Offset, argument.Type.FieldSize);
                if (state.Faulted)
                {
                    if (argument.Type.Kind == FetchKind.String)
                        BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)dynamicAt);
                    continue;
                }

                dynamicAt += argument.Store.Store(ref state, field, entry[dynamicAt..], dynamicAt);
            }
        }

        if (Filter is { } filter && !filter.Matches(entry[..dynamicAt], cpu.CurrentTask.Pid))
            return;
        _trace.Write(cpu, TraceEntryType.ProbeEvent, entry[..dynamicAt]);
    }

    /// <summary>The line after the context columns, as print_kprobe_event / print_kretprobe_event write it.</summary>
    public string Format(TraceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var symbols = _trace.Core.Symbols;
        var payload = record.Payload;
        var text = new StringBuilder();
        text.Append(Name).Append(": (");
        var ip = BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(8));
        if (IsReturn)
        {
            var returnIp = BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(16));
            text.Append(symbols.FormatOffset(returnIp)).Append(" <- ").Append(symbols.FormatName(ip));
        }
        else
        {
            text.Append(symbols.FormatOffset(ip));
        }

        text.Append(')');
        foreach (var argument in Arguments)
        {
            text.Append(' ').Append(argument.Name).Append('=');
            AppendValue(text, argument.Type, payload, argument.Offset, symbols);
        }

        return text.ToString();
    }

    private static void AppendValue(StringBuilder text, FetchType type, byte[] payload, int offset, Kallsyms symbols)
    {
        if (type.Kind == FetchKind.String)
        {
            var loc = BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(offset));
            var length = (int)(loc >> 16);
            var at = (int)(loc & 0xffff);
            if (length == 0)
            {
                text.Append("(fault)");
                return;
            }

            text.Append('"').Append(Encoding.ASCII.GetString(payload, at, Math.Max(0, length - 1))).Append('"');
            return;
        }

        var count = Math.Max(1, type.ArrayLength);
        if (type.ArrayLength > 0)
            text.Append('{');
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
                text.Append(',');
            var span = payload.AsSpan(offset + i * type.Size);
            ulong value = type.Size switch
            {
                1 => span[0],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(span),
                4 => BinaryPrimitives.ReadUInt32LittleEndian(span),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(span),
            };
            text.Append(type.Kind switch
            {
                FetchKind.Hex => "0x" + value.ToString("x", CultureInfo.InvariantCulture),
                FetchKind.Signed => SignExtend(value, type.Size).ToString(CultureInfo.InvariantCulture),
                FetchKind.Char => "'" + (char)(byte)value + "'",
                FetchKind.Symbol => symbols.FormatOffset(value),
                _ => value.ToString(CultureInfo.InvariantCulture),
            });
        }

        if (type.ArrayLength > 0)
            text.Append('}');
    }

    private static long SignExtend(ulong value, int size) => size switch
    {
        1 => (sbyte)value,
        2 => (short)value,
        4 => (int)value,
        _ => (long)value,
    };

    /// <summary>events/GROUP/EVENT/format.</summary>
    public string FormatFile()
    {
        var text = TraceEventFormat.Begin(Name, Id);
        if (IsReturn)
        {
            text.Append("\tfield:unsigned long __probe_func;\toffset:8;\tsize:8;\tsigned:0;\n");
            text.Append("\tfield:unsigned long __probe_ret_ip;\toffset:16;\tsize:8;\tsigned:0;\n");
        }
        else
        {
            text.Append("\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;\n");
        }

        foreach (var a in Arguments)
        {
            var suffix = a.Type.ArrayLength > 0 ? $"[{a.Type.ArrayLength}]" : string.Empty;
            var signed = a.Type.Kind == FetchKind.String || a.Type.IsSigned ? 1 : 0;
            text.Append(CultureInfo.InvariantCulture, $"\tfield:{a.Type.FormatType} {a.Name}{suffix};\toffset:{a.Offset};\tsize:{a.Type.FieldSize};\tsigned:{signed};\n");
        }

        text.Append("\nprint fmt: \"").Append(IsReturn ? "(%lx <- %lx)" : "(%lx)");
        foreach (var a in Arguments)
        {
            var one = a.Type.PrintFormat;
            var format = a.Type.ArrayLength > 0 ? "{" + string.Join(",", Enumerable.Repeat(one, a.Type.ArrayLength)) + "}" : one;
            text.Append(' ').Append(a.Name).Append('=').Append(format);
        }

        text.Append('"').Append(IsReturn ? ", REC->__probe_func, REC->__probe_ret_ip" : ", REC->__probe_ip");
        foreach (var a in Arguments)
        {
            if (a.Type.Kind == FetchKind.String)
                text.Append(CultureInfo.InvariantCulture, $", __get_str({a.Name})");
            else if (a.Type.ArrayLength > 0)
                text.Append(string.Concat(Enumerable.Range(0, a.Type.ArrayLength).Select(i => $", REC->{a.Name}[{i}]")));
            else
                text.Append(CultureInfo.InvariantCulture, $", REC->{a.Name}");
        }

        return text.Append('\n').ToString();
    }
}
