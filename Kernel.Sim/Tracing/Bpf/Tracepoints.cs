using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>
/// One TP_STRUCT__entry field: its C type as the <c>format</c> file prints it (<c>void *</c>, <c>unsigned int</c>), name
/// and size. A <see cref="MaxLength"/> above 0 makes it a <c>__data_loc char[]</c> string (<c>__string</c>): a 4-byte
/// word (offset | length &lt;&lt; 16) in the fixed part, the bytes after the fixed fields.
/// </summary>
public sealed record TracepointField(string Type, string Name, int Size, bool Signed = false)
{
    /// <summary>Bytes reserved for a <c>__data_loc</c> string's data (NUL included); 0 for fixed fields.</summary>
    public int MaxLength { get; init; }

    /// <summary>Whether this is a <c>__data_loc char[]</c> string.</summary>
    public bool IsString => MaxLength > 0;

    /// <summary><c>__string(name, src)</c>: a string of at most <paramref name="maxLength"/> - 1 characters.</summary>
    public static TracepointField String(string name, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return new TracepointField("__data_loc char[]", name, 4) { MaxLength = maxLength };
    }
}

/// <summary>TP_fast_assign: fills the fields (the span starts after the common header) from the TP_PROTO arguments.</summary>
public delegate void TracepointAssign(ReadOnlySpan<ulong> args, Span<byte> fields);

/// <summary>TP_fast_assign for records with <c>__data_loc</c> strings: <see cref="TracepointRecord.SetString(string, ReadOnlySpan{byte})"/> fills them.</summary>
public delegate void TracepointAssignRecord(ReadOnlySpan<ulong> args, ref TracepointRecord record);

/// <summary>The record being assigned: the fixed fields (after the common header) and the strings' data area.</summary>
public ref struct TracepointRecord
{
    private readonly Tracepoint _tracepoint;
    private readonly Span<byte> _record;
    private int _dataEnd;

    internal TracepointRecord(Tracepoint tracepoint, Span<byte> record)
    {
        _tracepoint = tracepoint;
        _record = record;
        _dataEnd = tracepoint.RecordSize;
    }

    /// <summary>The fixed fields, starting after the common header.</summary>
    public readonly Span<byte> Fields => _record[Tracepoint.CommonSize.._tracepoint.RecordSize];

    /// <summary>Bytes of the record so far (fixed part plus the strings set).</summary>
    public readonly int Length => _dataEnd;

    /// <summary>
    /// <c>__assign_str</c>: copies <paramref name="value"/> (up to a NUL or the field's <see cref="TracepointField.MaxLength"/>
    /// - 1 bytes) after the data set so far, NUL-terminates it and points <paramref name="field"/>'s
    /// <c>__data_loc</c> word at it.
    /// </summary>
    public void SetString(string field, ReadOnlySpan<byte> value) => SetString(_tracepoint.IndexOf(field), value);

    /// <summary><see cref="SetString(string, ReadOnlySpan{byte})"/> by the field's index in <see cref="Tracepoint.RecordFields"/> (no name lookup).</summary>
    public void SetString(int fieldIndex, ReadOnlySpan<byte> value)
    {
        var field = _tracepoint.RecordFields[fieldIndex];
        if (!field.IsString)
            throw new ArgumentException($"{_tracepoint.Group}:{_tracepoint.Name} field {field.Name} is not a string", nameof(fieldIndex));
        var nul = value.IndexOf((byte)0);
        var n = Math.Min(nul < 0 ? value.Length : nul, field.MaxLength - 1);
        value[..n].CopyTo(_record[_dataEnd..]);
        _record[_dataEnd + n] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(_record[_tracepoint.FieldOffsets[fieldIndex]..], (uint)(_dataEnd | ((n + 1) << 16)));
        _dataEnd += n + 1;
    }
}

/// <summary>
/// A tracepoint the simulated kernel defines (TRACE_EVENT): <c>SYSTEM:NAME</c>, its TP_PROTO arguments (what a
/// raw_tracepoint program sees as <c>u64 args[]</c>) and its record (what a tracepoint program sees: the common header
/// as Linux lays it out — u16 common_type, u8 common_flags, u8 common_preempt_count, s32 common_pid — then the fields,
/// naturally aligned, then the <c>__data_loc</c> strings' bytes). One object serves every consumer Linux has:
/// raw_tracepoint and tracepoint BPF programs, and the trace buffer through tracefs
/// (<c>events/SYSTEM/NAME/{enable,filter,format,id}</c>, printed with its TP_printk format).
/// Kernel code calls <see cref="Fire"/>; with nothing attached or enabled that is one load and one branch (the static key).
/// </summary>
public sealed unsafe class Tracepoint : ITracepoint
{
    /// <summary>Bytes of the common header.</summary>
    public const int CommonSize = 8;

    private const int RawBit = 1, ProgramsBit = 2, TraceBit = 4;

    private readonly KernelCore _core;
    private readonly TraceArray _trace;
    private readonly TracepointAssign? _assign;
    private readonly TracepointAssignRecord? _assignRecord;
    private readonly TracepointPrintFormat _print;
    private readonly int _maxDataBytes;
    private readonly Lock _updateLock = new();
    private readonly nint[] _buffers;
    private readonly bool[] _busy;
    private volatile LoadedBpfProgram[] _raw = [];
    private volatile LoadedBpfProgram[] _programs = [];
    private volatile int _active;
    private volatile bool _enabled;
    private long _hits;

    internal Tracepoint(KernelCore core, TraceArray trace, int id, string system, string name, IReadOnlyList<string> arguments,
        IReadOnlyList<TracepointField> fields, TracepointAssign? assign, TracepointAssignRecord? assignRecord, string? printFormat)
    {
        _core = core;
        _trace = trace;
        Id = id;
        Group = system;
        Name = name;
        Arguments = arguments;
        RecordFields = fields;
        _assign = assign;
        _assignRecord = assignRecord;
        var offsets = new int[fields.Count];
        var at = CommonSize;
        for (var i = 0; i < fields.Count; i++)
        {
            var align = Math.Min(fields[i].Size, 8);
            at = (at + align - 1) / align * align;
            offsets[i] = at;
            at += fields[i].Size;
            _maxDataBytes += fields[i].MaxLength;
        }

        FieldOffsets = offsets;
        RecordSize = at;
        // One record buffer per CPU in kernel memory, as Linux builds records in its per-CPU trace buffers: a program
        // can bpf_probe_read_kernel a __data_loc string through the record. Id 0 is the validation-only instance.
        _buffers = new nint[id == 0 ? 0 : core.Cpus.Count];
        _busy = new bool[_buffers.Length];
        for (var cpu = 0; cpu < _buffers.Length; cpu++)
            _buffers[cpu] = (nint)core.Memory.Allocate($"trace_event_buffer/{system}:{name}/{cpu}", (ulong)(at + _maxDataBytes), 8).Start;
        Fields = [.. fields.Select((f, i) => new TraceEventField(f.Name, offsets[i], f.Size, f.Signed, f.IsString))];
        _print = TracepointPrintFormat.Parse(printFormat ?? TracepointPrintFormat.Default(fields), this);
    }

    public int Id { get; }

    /// <summary>The system (<c>sched</c>).</summary>
    public string Group { get; }

    public string Name { get; }

    /// <summary>TP_PROTO, e.g. <c>struct task_struct *p</c>.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>TP_STRUCT__entry as defined.</summary>
    public IReadOnlyList<TracepointField> RecordFields { get; }

    /// <summary>Offset of each of <see cref="RecordFields"/> in the record.</summary>
    internal IReadOnlyList<int> FieldOffsets { get; }

    /// <summary>The fields as tracefs and filters see them (offsets in the record).</summary>
    public IReadOnlyList<TraceEventField> Fields { get; }

    /// <summary>Bytes of the record's fixed part (common header and fields): what a tracepoint program's ctx covers.</summary>
    public int RecordSize { get; }

    /// <summary>events/SYSTEM/NAME/enable: write entries to the trace buffer.</summary>
    public bool Enabled
    {
        get => _enabled;
        set
        {
            _enabled = value;
            Update();
        }
    }

    /// <summary>events/SYSTEM/NAME/filter (entries to the trace buffer only; programs see every hit, as in Linux).</summary>
    public ProbeEvents.EventFilter? Filter { get; set; }

    /// <summary>Entries written to the trace buffer.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Offset of <paramref name="field"/> in the record.</summary>
    public int OffsetOf(string field) => FieldOffsets[IndexOf(field)];

    /// <summary>The index of <paramref name="field"/> in <see cref="RecordFields"/>.</summary>
    public int IndexOf(string field)
    {
        for (var i = 0; i < RecordFields.Count; i++)
        {
            if (RecordFields[i].Name == field)
                return i;
        }

        throw new ArgumentException($"{Group}:{Name} has no field {field}", nameof(field));
    }

    internal void SetPrograms(LoadedBpfProgram[] programs, bool raw)
    {
        if (raw)
            _raw = programs;
        else
            _programs = programs;
        Update();
    }

    internal LoadedBpfProgram[] Programs(bool raw) => raw ? _raw : _programs;

    /// <summary>Recomputes the static key from the three consumers; under one lock, so concurrent changes cannot lose a bit.</summary>
    private void Update()
    {
        lock (_updateLock)
            _active = (_raw.Length > 0 ? RawBit : 0) | (_programs.Length > 0 ? ProgramsBit : 0) | (_enabled ? TraceBit : 0);
    }

    /// <summary>
    /// trace_SYSTEM_NAME(args...): runs the attached raw_tracepoint programs on the arguments, then builds the record
    /// once for the tracepoint programs and, when enabled and the filter passes, the trace buffer.
    /// </summary>
    public void Fire(ReadOnlySpan<ulong> args)
    {
        var active = _active;
        if (active == 0)
            return;
        FireSlow(args, active);
    }

    private void FireSlow(ReadOnlySpan<ulong> args, int active)
    {
        // A hit is an RCU read-side section (Linux runs tracepoint probes under rcu_read_lock_sched), so a detach
        // that waits in synchronize_rcu knows no CPU still runs the program it removed.
        var cpu = _core.Cpus.RequireCurrent();
        cpu.RcuReadLock();
        try
        {
            Hit(args, active, cpu);
        }
        finally
        {
            cpu.RcuReadUnlock();
        }
    }

    private void Hit(ReadOnlySpan<ulong> args, int active, SimulatedCpu cpu)
    {
        if ((active & RawBit) != 0)
        {
            fixed (ulong* a = args)
            {
                foreach (var program in _raw)
                    program.Run(cpu.Id, a, Math.Max(8, args.Length * 8));
            }
        }

        if ((active & (ProgramsBit | TraceBit)) == 0)
            return;
        var size = RecordSize + _maxDataBytes;
        // The CPU's buffer; a nested hit on the same CPU (a program's helper firing it again) builds on the stack.
        var nested = _busy[cpu.Id];
        var record = nested ? stackalloc byte[size] : new Span<byte>((void*)_buffers[cpu.Id], size);
        _busy[cpu.Id] = true;
        try
        {
            Build(args, active, cpu, record);
        }
        finally
        {
            _busy[cpu.Id] = nested;
        }
    }

    private void Build(ReadOnlySpan<ulong> args, int active, SimulatedCpu cpu, Span<byte> span)
    {
        span.Clear();
        var (flags, preempt) = TraceArray.Context(cpu);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)Id);
        span[2] = (byte)flags;
        span[3] = preempt;
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], cpu.CurrentTask.Pid);
        var length = RecordSize;
        if (_assignRecord is { } assignRecord)
        {
            var writer = new TracepointRecord(this, span);
            assignRecord(args, ref writer);
            length = writer.Length;
        }
        else
        {
            _assign!(args, span[CommonSize..RecordSize]);
        }

        if ((active & ProgramsBit) != 0)
        {
            // The run's input is the whole record, strings included, so bpf_probe_read_kernel reaches a __data_loc
            // string's bytes (the verifier limits direct ctx loads to the fixed part).
            fixed (byte* record = span)
            {
                foreach (var program in _programs)
                    program.Run(cpu.Id, record, length);
            }
        }

        if ((active & TraceBit) == 0)
            return;
        // The trace buffer's payloads start with the event id as an int (the entry's header carries flags and pid).
        BinaryPrimitives.WriteInt32LittleEndian(span, Id);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 0);
        var entry = span[..length];
        if (Filter is { } filter && !filter.Matches(entry, cpu.CurrentTask.Pid))
            return;
        if (_trace.Write(cpu, TraceEntryType.ProbeEvent, entry))
            Interlocked.Increment(ref _hits);
    }

    /// <summary>The trace line after the timestamp: <c>NAME: </c> and the TP_printk output.</summary>
    public string Format(TraceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return $"{Name}: {_print.Format(record.Payload)}";
    }

    /// <summary>events/SYSTEM/NAME/format, as Linux writes it.</summary>
    public string FormatFile()
    {
        var text = TraceEventFormat.Begin(Name, Id);
        for (var i = 0; i < RecordFields.Count; i++)
        {
            var f = RecordFields[i];
            text.Append(CultureInfo.InvariantCulture, $"\tfield:{f.Type} {f.Name};\toffset:{FieldOffsets[i]};\tsize:{f.Size};\tsigned:{(f.Signed ? 1 : 0)};\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"\nprint fmt: {_print.Text}\n");
        return text.ToString();
    }
}

/// <summary>The kernel's tracepoints by <c>SYSTEM:NAME</c> (DEFINE_EVENT), and attaching programs to them.</summary>
public sealed class Tracepoints
{
    private readonly KernelCore _core;
    private readonly TracingBpf _bpf;
    private readonly TraceArray _trace;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Tracepoint> _byName = new(StringComparer.Ordinal);

    public Tracepoints(KernelCore core, TracingBpf bpf, TraceArray trace)
    {
        _core = core ?? throw new ArgumentNullException(nameof(core));
        _bpf = bpf ?? throw new ArgumentNullException(nameof(bpf));
        _trace = trace ?? throw new ArgumentNullException(nameof(trace));
    }

    /// <summary>
    /// Defines <c>system:name</c> (idempotent: a second definition returns the first). <paramref name="printFormat"/> is
    /// TP_printk as the format file shows it (<c>"len=%u", REC->len</c>); by default every field is printed.
    /// </summary>
    public Tracepoint Define(string system, string name, IReadOnlyList<string> arguments, IReadOnlyList<TracepointField> fields, TracepointAssign assign, string? printFormat = null)
    {
        ArgumentNullException.ThrowIfNull(assign);
        if (fields?.Any(f => f.IsString) == true)
            throw new ArgumentException($"{system}:{name} has __data_loc strings: define it with a TracepointAssignRecord", nameof(assign));
        return Define(system, name, arguments, fields!, assign, null, printFormat);
    }

    /// <summary>Defines <c>system:name</c> whose record may hold <c>__data_loc</c> strings (<see cref="TracepointRecord.SetString(string, ReadOnlySpan{byte})"/>).</summary>
    public Tracepoint Define(string system, string name, IReadOnlyList<string> arguments, IReadOnlyList<TracepointField> fields, TracepointAssignRecord assign, string? printFormat = null)
    {
        ArgumentNullException.ThrowIfNull(assign);
        return Define(system, name, arguments, fields, null, assign, printFormat);
    }

    private Tracepoint Define(string system, string name, IReadOnlyList<string> arguments, IReadOnlyList<TracepointField> fields, TracepointAssign? assign, TracepointAssignRecord? assignRecord, string? printFormat)
    {
        ArgumentException.ThrowIfNullOrEmpty(system);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(fields);
        lock (_lock)
        {
            if (_byName.TryGetValue($"{system}:{name}", out var existing))
                return existing;
            // Build (and so validate the print format) before taking an event id.
            var created = new Tracepoint(_core, _trace, 0, system, name, arguments, fields, assign, assignRecord, printFormat);
            _trace.AddEvent(id => created = new Tracepoint(_core, _trace, id, system, name, arguments, fields, assign, assignRecord, printFormat));
            _byName[$"{system}:{name}"] = created;
            return created;
        }
    }

    /// <summary>The tracepoint <c>system:name</c> (or <c>system/name</c>), or null.</summary>
    public Tracepoint? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_lock)
            return _byName.GetValueOrDefault(name.Replace('/', ':'));
    }

    /// <summary>The tracepoint called <paramref name="name"/> in any system (raw_tracepoint/NAME), or null.</summary>
    public Tracepoint? FindByEvent(string name)
    {
        lock (_lock)
            return _byName.Values.FirstOrDefault(t => t.Name == name);
    }

    /// <summary>The program type of a tracepoint program for <paramref name="tracepoint"/> (ctx = its record).</summary>
    public static ProgramType TracepointType(Tracepoint tracepoint) => new TracepointProgramType(tracepoint?.RecordSize ?? throw new ArgumentNullException(nameof(tracepoint)));

    /// <summary>The program type of a raw_tracepoint program for <paramref name="tracepoint"/> (ctx = u64 args[]).</summary>
    public static ProgramType RawTracepointType(Tracepoint tracepoint) => new RawTracepointProgramType(tracepoint?.Arguments.Count ?? throw new ArgumentNullException(nameof(tracepoint)));

    /// <summary>
    /// Attaches with an attach cookie (libbpf's <c>bpf_tracepoint_opts.bpf_cookie</c>): the program's runs from this
    /// tracepoint see <paramref name="cookie"/> through <c>bpf_get_attach_cookie</c>.
    /// </summary>
    public TracepointLink Attach(LoadedBpfProgram program, Tracepoint tracepoint, bool raw, ulong cookie) =>
        Attach((program ?? throw new ArgumentNullException(nameof(program))).WithCookie(cookie), tracepoint, raw);

    /// <summary>Attaches a tracepoint (or, with <paramref name="raw"/>, raw_tracepoint) program; programs run in attach order.</summary>
    public TracepointLink Attach(LoadedBpfProgram program, Tracepoint tracepoint, bool raw)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(tracepoint);
        var ok = raw ? program.Type is RawTracepointProgramType r && r.ArgumentCount <= tracepoint.Arguments.Count
                     : program.Type is TracepointProgramType t && t.ContextSize <= tracepoint.RecordSize;
        if (!ok)
            throw new BpfAttachException(Errno.EINVAL, $"a {program.Type.Name} program cannot attach to {(raw ? "raw_tracepoint" : "tracepoint")} {tracepoint.Group}:{tracepoint.Name}");
        lock (_lock)
            tracepoint.SetPrograms([.. tracepoint.Programs(raw), program], raw);
        return new TracepointLink(() =>
        {
            lock (_lock)
            {
                var list = tracepoint.Programs(raw).ToList();
                list.Remove(program);
                tracepoint.SetPrograms([.. list], raw);
            }

            // The detach guarantee: once Dispose returns no CPU runs the program (its maps may be closed next).
            _core.Cpus.SynchronizeRcu();
        });
    }
}

/// <summary>A program attached to a tracepoint; dispose to detach.</summary>
public sealed class TracepointLink(Action detach) : IDisposable
{
    private Action? _detach = detach;

    public void Dispose() => Interlocked.Exchange(ref _detach, null)?.Invoke();
}

/// <summary>BPF_PROG_TYPE_TRACEPOINT: the event's record (common header included), read-only (tp_prog_is_valid_access).</summary>
public sealed class TracepointProgramType(int recordSize) : ProgramType
{
    public override string Name => "tracepoint";

    public override int LinuxType => 5;

    public override int ContextSize => recordSize;

    public override bool IsTracing => true;

    public override bool IsValidContextAccess(int off, int size, bool write, out RegType loadedType)
    {
        loadedType = RegType.Scalar;
        return !write && off >= 0 && off % size == 0 && off + size <= recordSize;
    }
}
