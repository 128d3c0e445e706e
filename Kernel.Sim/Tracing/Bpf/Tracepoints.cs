using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>One TP_STRUCT__entry field: its C type, name and size (offsets follow the 8-byte common header).</summary>
public sealed record TracepointField(string Type, string Name, int Size, bool Signed = false);

/// <summary>TP_fast_assign: fills the fields (the span starts after the common header) from the TP_PROTO arguments.</summary>
public delegate void TracepointAssign(ReadOnlySpan<ulong> args, Span<byte> fields);

/// <summary>
/// A tracepoint the simulated kernel defines (TRACE_EVENT): <c>SYSTEM:NAME</c>, its TP_PROTO arguments (what a
/// raw_tracepoint program sees as <c>u64 args[]</c>) and its record (what a tracepoint program sees: the common header
/// as Linux lays it out — u16 common_type, u8 common_flags, u8 common_preempt_count, s32 common_pid — then the fields).
/// Kernel code calls <see cref="Fire"/>; with nothing attached that is one load and one branch (the static key).
/// </summary>
public sealed unsafe class Tracepoint : ITraceEvent
{
    /// <summary>Bytes of the common header.</summary>
    public const int CommonSize = 8;

    private readonly KernelCore _core;
    private readonly TracingBpf _bpf;
    private readonly TracepointAssign _assign;
    private volatile LoadedBpfProgram[] _raw = [];
    private volatile LoadedBpfProgram[] _programs = [];

    internal Tracepoint(KernelCore core, TracingBpf bpf, int id, string system, string name, IReadOnlyList<string> arguments, IReadOnlyList<TracepointField> fields, TracepointAssign assign)
    {
        _core = core;
        _bpf = bpf;
        Id = id;
        Group = system;
        Name = name;
        Arguments = arguments;
        Fields = fields;
        _assign = assign;
        RecordSize = CommonSize + fields.Sum(f => f.Size);
    }

    public int Id { get; }

    /// <summary>The system (<c>sched</c>).</summary>
    public string Group { get; }

    public string Name { get; }

    /// <summary>TP_PROTO, e.g. <c>struct task_struct *p</c>.</summary>
    public IReadOnlyList<string> Arguments { get; }

    public IReadOnlyList<TracepointField> Fields { get; }

    /// <summary>Bytes of the record a tracepoint program reads.</summary>
    public int RecordSize { get; }

    /// <summary>Offset of <paramref name="field"/> in the record.</summary>
    public int OffsetOf(string field)
    {
        var at = CommonSize;
        foreach (var f in Fields)
        {
            if (f.Name == field)
                return at;
            at += f.Size;
        }

        throw new ArgumentException($"{Group}:{Name} has no field {field}", nameof(field));
    }

    internal void SetPrograms(LoadedBpfProgram[] programs, bool raw)
    {
        if (raw)
            _raw = programs;
        else
            _programs = programs;
    }

    internal LoadedBpfProgram[] Programs(bool raw) => raw ? _raw : _programs;

    /// <summary>trace_SYSTEM_NAME(args...): runs the attached raw_tracepoint programs, then the tracepoint programs on the record.</summary>
    public void Fire(ReadOnlySpan<ulong> args)
    {
        var raw = _raw;
        var programs = _programs;
        if (raw.Length == 0 && programs.Length == 0)
            return;
        var cpu = _core.Cpus.RequireCurrent();
        fixed (ulong* a = args)
        {
            foreach (var program in raw)
                program.Run(cpu.Id, a, Math.Max(8, args.Length * 8));
        }

        if (programs.Length == 0)
            return;
        var record = stackalloc byte[RecordSize];
        var span = new Span<byte>(record, RecordSize);
        span.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)Id);
        span[2] = (byte)(cpu.IrqsDisabled ? 1 : 0);
        span[3] = (byte)cpu.PreemptDepth;
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], cpu.CurrentTask.Pid);
        _assign(args, span[CommonSize..]);
        foreach (var program in programs)
            program.Run(cpu.Id, record, RecordSize);
    }

    /// <summary>The fields as <c>name=value</c>, for trace output.</summary>
    public string Format(TraceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var text = new StringBuilder(Name).Append(':');
        var at = CommonSize;
        foreach (var f in Fields)
        {
            var span = record.Payload.AsSpan(at);
            long value = f.Size switch
            {
                1 => f.Signed ? (sbyte)span[0] : span[0],
                2 => f.Signed ? BinaryPrimitives.ReadInt16LittleEndian(span) : BinaryPrimitives.ReadUInt16LittleEndian(span),
                4 => f.Signed ? BinaryPrimitives.ReadInt32LittleEndian(span) : BinaryPrimitives.ReadUInt32LittleEndian(span),
                _ => BinaryPrimitives.ReadInt64LittleEndian(span),
            };
            text.Append(CultureInfo.InvariantCulture, $" {f.Name}={value}");
            at += f.Size;
        }

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

    /// <summary>Defines <c>system:name</c> (idempotent: a second definition returns the first).</summary>
    public Tracepoint Define(string system, string name, IReadOnlyList<string> arguments, IReadOnlyList<TracepointField> fields, TracepointAssign assign)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(assign);
        lock (_lock)
        {
            if (_byName.TryGetValue($"{system}:{name}", out var existing))
                return existing;
            Tracepoint? created = null;
            _trace.AddEvent(id => created = new Tracepoint(_core, _bpf, id, system, name, arguments, fields, assign));
            _byName[$"{system}:{name}"] = created!;
            return created!;
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
