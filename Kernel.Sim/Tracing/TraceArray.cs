using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing;

/// <summary>
/// The top-level trace instance (struct trace_array): the ring buffer, <c>tracing_on</c>, the current tracer
/// (<c>nop</c>, <c>function</c>, <c>function_graph</c>), the global ftrace_ops whose filter is set_ftrace_filter, the
/// registered trace events, and the <c>trace</c> / <c>trace_pipe</c> readers in the kernel's output layout.
/// </summary>
public sealed class TraceArray
{
    /// <summary>available_tracers, in the order Linux lists them.</summary>
    public static readonly IReadOnlyList<string> AvailableTracers = ["function_graph", "function", "nop"];

    private readonly KernelCore _core;
    private readonly Ftrace _ftrace;
    private readonly Lock _lock = new();
    private readonly int[] _graphDepth;
    private readonly Dictionary<int, ITraceEvent> _events = [];
    private GraphReturn? _graphReturn;
    private volatile bool _tracingOn = true;
    private int _nextEventId = 1500;

    public TraceArray(KernelCore core, Ftrace ftrace)
    {
        _core = core ?? throw new ArgumentNullException(nameof(core));
        _ftrace = ftrace ?? throw new ArgumentNullException(nameof(ftrace));
        Buffer = new TraceRingBuffer(core.Cpus.Count);
        _graphDepth = new int[core.Cpus.Count];
        GlobalOps = new FtraceOps(GlobalCallback, FtraceOpsFlags.Recursion, "global_ops");
        Output = new TraceOutput(this);
    }

    /// <summary>The kernel.</summary>
    public KernelCore Core => _core;

    public Ftrace Ftrace => _ftrace;

    /// <summary>The per-CPU ring buffer.</summary>
    public TraceRingBuffer Buffer { get; }

    /// <summary>The ops of the function and function_graph tracers; its filter is set_ftrace_filter, its notrace set_ftrace_notrace.</summary>
    public FtraceOps GlobalOps { get; }

    /// <summary>Formats the buffer as the <c>trace</c> and <c>trace_pipe</c> files do.</summary>
    public TraceOutput Output { get; }

    /// <summary>current_tracer.</summary>
    public string CurrentTracer { get; private set; } = "nop";

    /// <summary>tracing_on: when off nothing is written (events are not counted either).</summary>
    public bool TracingOn
    {
        get => _tracingOn;
        set => _tracingOn = value;
    }

    /// <summary>Selects a tracer; -EINVAL for an unknown name.</summary>
    public int SetTracer(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!AvailableTracers.Contains(name))
            return -Errno.EINVAL;
        lock (_lock)
        {
            if (name == CurrentTracer)
                return 0;
            if (GlobalOps.Registered)
                _ftrace.Unregister(GlobalOps);
            if (_graphReturn is not null)
                _graphReturn.Active = false;
            _graphReturn = null;
            CurrentTracer = name;
            if (name == "nop")
                return 0;
            Array.Clear(_graphDepth);
            if (name == "function_graph")
                _graphReturn = new GraphReturn(this);
            return _ftrace.Register(GlobalOps);
        }
    }

    /// <summary>Registers an event so its entries can be printed; returns its id.</summary>
    public int AddEvent(Func<int, ITraceEvent> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        lock (_lock)
        {
            var id = _nextEventId++;
            _events[id] = create(id);
            return id;
        }
    }

    /// <summary>Forgets an event (its remaining entries print as unknown).</summary>
    public void RemoveEvent(int id)
    {
        lock (_lock)
            _events.Remove(id);
    }

    /// <summary>The tracepoints the kernel defines (events that are <see cref="ITracepoint"/>), by id.</summary>
    public IReadOnlyList<ITracepoint> Tracepoints
    {
        get
        {
            lock (_lock)
                return _events.Values.OfType<ITracepoint>().OrderBy(t => t.Id).ToArray();
        }
    }

    /// <summary>The event with <paramref name="id"/>, or null.</summary>
    public ITraceEvent? FindEvent(int id)
    {
        lock (_lock)
            return _events.GetValueOrDefault(id);
    }

    /// <summary>The flags byte and preempt count of an entry written now on <paramref name="cpu"/>.</summary>
    public static (TraceEntryFlags Flags, byte Preempt) Context(SimulatedCpu cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        var flags = cpu.IrqsDisabled ? TraceEntryFlags.IrqsOff : TraceEntryFlags.None;
        flags |= cpu.Context switch
        {
            CpuContext.SoftIrq => TraceEntryFlags.SoftIrq,
            CpuContext.HardIrq => TraceEntryFlags.HardIrq,
            CpuContext.Nmi => TraceEntryFlags.Nmi,
            _ => TraceEntryFlags.None,
        };
        return (flags, (byte)Math.Min(cpu.PreemptDepth, 15));
    }

    /// <summary>Writes an entry stamped with the CPU's context, pid and clock. False when tracing is off or the entry was dropped.</summary>
    public bool Write(SimulatedCpu cpu, TraceEntryType type, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        if (!_tracingOn)
            return false;
        var (flags, preempt) = Context(cpu);
        return Buffer.Write(cpu.Id, type, flags, preempt, cpu.CurrentTask.Pid, cpu.ClockNs, payload);
    }

    private void GlobalCallback(ulong ip, ulong parentIp, FtraceOps ops, ref PtRegs regs)
    {
        var cpu = _core.Cpus.RequireCurrent();
        Span<byte> payload = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, ip);
        if (_graphReturn is { } graph)
        {
            // trace_graph_entry: record the entry, then ask for the return with the call time.
            var depth = _graphDepth[cpu.Id];
            if (!_ftrace.HookReturn(graph, (ulong)cpu.ClockNs))
                return;
            BinaryPrimitives.WriteInt32LittleEndian(payload[8..], depth);
            _graphDepth[cpu.Id] = depth + 1;
            Write(cpu, TraceEntryType.GraphEntry, payload);
            return;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], parentIp);
        Write(cpu, TraceEntryType.Function, payload);
    }

    private sealed class GraphReturn(TraceArray trace) : FunctionReturnHandler
    {
        public override void OnReturn(KernelFunction function, ulong parentIp, ulong data, ref PtRegs regs)
        {
            var cpu = trace._core.Cpus.RequireCurrent();
            var depth = --trace._graphDepth[cpu.Id];
            Span<byte> payload = stackalloc byte[32];
            BinaryPrimitives.WriteUInt64LittleEndian(payload, function.Address);
            BinaryPrimitives.WriteInt64LittleEndian(payload[8..], depth);
            BinaryPrimitives.WriteUInt64LittleEndian(payload[16..], data);
            BinaryPrimitives.WriteInt64LittleEndian(payload[24..], cpu.ClockNs);
            trace.Write(cpu, TraceEntryType.GraphReturn, payload);
        }

        public override void Abandon(ulong data)
        {
            if (trace._core.Cpus.Current is { } cpu && trace._graphDepth[cpu.Id] > 0)
                trace._graphDepth[cpu.Id]--;
        }
    }

    /// <summary>The comm of a pid as the trace prints it (<c>&lt;idle&gt;</c> for 0, <c>&lt;...&gt;</c> when unknown).</summary>
    public string CommOf(int pid) => pid == 0 ? "<idle>" : _core.FindTask(pid)?.Comm ?? "<...>";

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    internal static StringBuilder AppendInvariant(StringBuilder builder, FormattableString text) =>
        builder.Append(text.ToString(CultureInfo.InvariantCulture));
}
