using System.Globalization;
using System.Text;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing.ProbeEvents;

/// <summary>One error_log entry.</summary>
public sealed record TracingError(long TimestampNs, string Location, string Message, string Command, int Position)
{
    /// <summary>As the error_log file prints it: <c>[    1.234567] trace_kprobe: error: …</c>, the command, the caret.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{TimestampNs / 1_000_000_000,5}.{TimestampNs % 1_000_000_000 / 1000:D6}] {Location}{Message}\n  Command: {Command}\n{new string(' ', 11 + Position)}^\n");
}

/// <summary>How probe events fetch their arguments.</summary>
public enum FetchEngine
{
    /// <summary>A chain of fetch steps called through virtual calls (the kernel's classic fetch path).</summary>
    Classic,

    /// <summary>One verified BPF program per event (kprobe type, probe_read_kernel), JIT-compiled.</summary>
    Bpf,
}

/// <summary>
/// kprobe_events and dynamic_events: adds, removes and lists probe events, enables them (events/GROUP/EVENT/enable),
/// keeps kprobe_profile's counts and error_log (the last 16 errors).
/// </summary>
public sealed unsafe class ProbeEventManager
{
    /// <summary>TRACING_LOG_ERRS_MAX.</summary>
    public const int ErrorLogCapacity = 16;

    private readonly TraceArray _trace;
    private readonly Kprobes _kprobes;
    private readonly Lock _lock = new();
    private readonly List<ProbeEvent> _events = [];
    private readonly Queue<TracingError> _errors = new();

    public ProbeEventManager(TraceArray trace, Kprobes kprobes)
    {
        _trace = trace ?? throw new ArgumentNullException(nameof(trace));
        _kprobes = kprobes ?? throw new ArgumentNullException(nameof(kprobes));
    }

    /// <summary>Where fetch programs load (set by <see cref="KernelTracing"/>).</summary>
    public Bpf.TracingBpf? Bpf { get; set; }

    /// <summary>
    /// Which engine fetches arguments: the classic chain of fetch steps, or one verified, JIT-compiled BPF program per
    /// event (filters compiled in). Switching compiles (or drops) the programs of every defined event; an event whose
    /// program cannot be generated or verified keeps the classic chain (logged to dmesg).
    /// </summary>
    public FetchEngine FetchEngine
    {
        get;
        set
        {
            if (value == FetchEngine.Bpf && Bpf is null)
                throw new InvalidOperationException("no BPF subsystem to load fetch programs into");
            lock (_lock)
            {
                field = value;
                foreach (var e in _events)
                {
                    e.BpfFactory = value == FetchEngine.Bpf ? CompileBpf : null;
                    e.RebuildBpf();
                }
            }
        }
    }

    /// <summary>
    /// Selects the fetch engine of one event, overriding <see cref="FetchEngine"/> until the next global switch (so two
    /// events on one function can fetch the same hit both ways, as the differential tests do).
    /// </summary>
    public void SetFetchEngine(ProbeEvent probeEvent, FetchEngine engine)
    {
        ArgumentNullException.ThrowIfNull(probeEvent);
        if (engine == FetchEngine.Bpf && Bpf is null)
            throw new InvalidOperationException("no BPF subsystem to load fetch programs into");
        lock (_lock)
        {
            probeEvent.BpfFactory = engine == FetchEngine.Bpf ? CompileBpf : null;
            probeEvent.RebuildBpf();
        }
    }

    /// <summary>
    /// The event's fetch program, or null when it cannot be generated or verified: the event then keeps the classic
    /// chain and dmesg says why (the records are the same either way).
    /// </summary>
    private Bpf.BpfFetchProgram? CompileBpf(ProbeEvent probeEvent)
    {
        try
        {
            return Kernel.Sim.Tracing.Bpf.BpfFetchProgram.Create(Bpf!, probeEvent, probeEvent.Filter);
        }
        catch (Exception e) when (e is NotSupportedException or Kernel.Sim.Tracing.Bpf.BpfLoadException)
        {
            _trace.Core.Printk.Log($"trace_kprobe: {probeEvent.Group}/{probeEvent.Name}: fetch program not used ({e.Message.Split('\n')[0]}); fetching with the classic chain");
            return null;
        }
    }

    /// <summary>The defined events in definition order.</summary>
    public IReadOnlyList<ProbeEvent> Events
    {
        get
        {
            lock (_lock)
                return _events.ToArray();
        }
    }

    /// <summary>The event <paramref name="group"/>/<paramref name="name"/>, or null.</summary>
    public ProbeEvent? Find(string group, string name)
    {
        lock (_lock)
            return _events.FirstOrDefault(e => e.Group == group && e.Name == name);
    }

    /// <summary>
    /// A write to kprobe_events: <paramref name="append"/> false (<c>&gt;</c>) first removes every kprobe event (-EBUSY if
    /// one is enabled). Each line is a <c>p</c>/<c>r</c> definition, a <c>-:[GRP/]EVENT</c> removal, or a <c>#</c>
    /// comment. Returns 0 or -errno; errors are logged.
    /// </summary>
    public int Write(string text, bool append) => WriteLines(text, append, ProbeFile.KprobeEvents);

    /// <summary>A write to dynamic_events: like kprobe_events, also accepting <c>f</c> (fprobe) definitions; truncation removes every event.</summary>
    public int WriteDynamic(string text, bool append) => WriteLines(text, append, ProbeFile.DynamicEvents);

    /// <summary>
    /// A write to function_events (KernelSim's take on the "function based events" proposal): each line is
    /// <c>FUNC(TYPE NAME, ...)</c> defining the event functions/FUNC on FUNC's entry, the Nth declared parameter
    /// fetching the Nth argument with the given type; <c>!FUNC</c> removes it.
    /// </summary>
    public int WriteFunctionEvents(string text, bool append) => WriteLines(text, append, ProbeFile.FunctionEvents);

    private enum ProbeFile
    {
        KprobeEvents,
        DynamicEvents,
        FunctionEvents,
    }

    private static bool Shows(ProbeFile file, ProbeEvent e) => file switch
    {
        ProbeFile.KprobeEvents => e.Kind is 'p' or 'r',
        ProbeFile.DynamicEvents => e.Kind != 'F',
        _ => e.Kind == 'F',
    };

    private int WriteLines(string text, bool append, ProbeFile file)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!append)
        {
            var cleared = Clear(e => Shows(file, e));
            if (cleared != 0)
                return cleared;
        }

        foreach (var raw in text.Split('\n'))
        {
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0)
                continue;
            var result = file switch
            {
                ProbeFile.FunctionEvents => ExecuteFunctionEvent(line),
                ProbeFile.KprobeEvents when line.StartsWith('f') => -Errno.EINVAL,
                _ => Execute(line),
            };
            if (result != 0)
                return result;
        }

        return 0;
    }

    /// <summary>Runs one command, logging a failure in error_log. Returns 0 or -errno.</summary>
    public int Execute(string command)
    {
        try
        {
            if (command.StartsWith('-'))
                return Remove(command);
            Add(command);
            return 0;
        }
        catch (ProbeEventException e)
        {
            if (e.Message != "Invalid command")
                Log(e);
            return e.Errno;
        }
    }

    /// <summary>Defines and registers an event (disabled, as Linux registers it). Throws <see cref="ProbeEventException"/>.</summary>
    public ProbeEvent Add(string command) => Add(command, new ProbeEventParser(_trace.Core).Parse(command), null);

    private ProbeEvent Add(string command, ProbeDefinition definition, string? source)
    {
        var words = ProbeEventParser.Split(command);
        lock (_lock)
        {
            if (_events.Any(e => e.Group == definition.Group && e.Name == definition.Event))
                throw new ProbeEventException("Given group/event name is already used by another event", words[0].IndexOf(':', StringComparison.Ordinal) + 1, -Errno.EEXIST, string.Join(' ', words));
            ProbeEvent? created = null;
            var id = _trace.AddEvent(eventId => created = new ProbeEvent(_trace, eventId, definition.Group, definition.Event, definition.IsReturn, definition.Symbol, definition.Offset, definition.Address, definition.MaxActive, definition.Arguments, definition.Kind, source));
            var probeEvent = created!;
            int result;
            if (definition.IsReturn)
            {
                // $argN on a return probe: the entry handler saves the six register arguments in the instance data.
                var saveArguments = probeEvent.NeedsEntryArguments;
                var rp = new Kretprobe
                {
                    SymbolName = definition.Symbol,
                    MaxActive = definition.MaxActive,
                    DataSize = saveArguments ? 8 * FunctionPrototype.MaxRegisterArguments : 0,
                    EntryHandler = saveArguments ? SaveEntryArguments : null,
                    Handler = (KretprobeInstance ri, ref PtRegs regs) =>
                    {
                        if (probeEvent.Enabled)
                            RecordReturn(probeEvent, ri, ref regs);
                        return 0;
                    },
                };
                result = definition.Symbol is null ? -Errno.EINVAL : _kprobes.Register(rp);
                probeEvent.Kretprobe = rp;
                probeEvent.Kprobe = rp.Kp;
                if (result == 0)
                    _kprobes.Disable(rp);
            }
            else
            {
                var kp = new Kprobe
                {
                    SymbolName = definition.Symbol,
                    Offset = definition.Symbol is null ? 0 : definition.Offset,
                    Address = definition.Symbol is null ? definition.Address : 0,
                    PreHandler = (Kprobe p, ref PtRegs regs) =>
                    {
                        if (probeEvent.Enabled)
                            probeEvent.Record(ref regs, 0);
                        return 0;
                    },
                };
                result = _kprobes.Register(kp);
                probeEvent.Kprobe = kp;
                if (result == 0)
                    _kprobes.Disable(kp);
            }

            if (result != 0)
            {
                _trace.RemoveEvent(id);
                var position = words[0].Length + 1;
                if (result == -Errno.EINVAL && definition.Function.Notrace)
                    _trace.Core.Printk.Log($"Could not probe notrace function {definition.Function.Name}");
                var message = result switch
                {
                    -Errno.EILSEQ => "Probe point is not an instruction boundary",
                    -Errno.ENOENT => "Invalid probed address or symbol",
                    _ => "Failed to register probe event",
                };
                throw new ProbeEventException(message, position, result, string.Join(' ', words));
            }

            _events.Add(probeEvent);
            if (FetchEngine == FetchEngine.Bpf)
            {
                probeEvent.BpfFactory = CompileBpf;
                probeEvent.RebuildBpf();
            }
            return probeEvent;
        }
    }

    private static unsafe int SaveEntryArguments(KretprobeInstance instance, ref PtRegs regs)
    {
        var saved = (ulong*)instance.DataAddress;
        for (var i = 0; i < FunctionPrototype.MaxRegisterArguments; i++)
            saved[i] = regs.Argument(i);
        return 0;
    }

    private static unsafe void RecordReturn(ProbeEvent probeEvent, KretprobeInstance instance, ref PtRegs regs) =>
        probeEvent.Record(ref regs, instance.ReturnAddress, instance.DataSize > 0 ? (ulong*)instance.DataAddress : null);

    private int Remove(string command)
    {
        var parser = new ProbeEventParser(_trace.Core);
        parser.Begin(command);
        var words = ProbeEventParser.Split(command);
        if (!words[0].StartsWith("-:", StringComparison.Ordinal))
            throw new ProbeEventException("Invalid command", 0, -Errno.EINVAL, command);
        var text = words[0][2..];
        var hasGroup = text.Contains('/', StringComparison.Ordinal);
        var (group, name) = parser.ParseEventName(text, 2);
        lock (_lock)
        {
            var found = _events.FirstOrDefault(e => e.Name == name && (!hasGroup || e.Group == group));
            if (found is null)
                return -Errno.ENOENT;
            if (found.Enabled)
                return -Errno.EBUSY;
            Unregister(found);
            _events.Remove(found);
            return 0;
        }
    }

    /// <summary>Removes every event; -EBUSY (and nothing removed) if any is enabled.</summary>
    public int Clear() => Clear(_ => true);

    private int Clear(Func<ProbeEvent, bool> which)
    {
        lock (_lock)
        {
            var victims = _events.Where(which).ToArray();
            if (victims.Any(e => e.Enabled))
                return -Errno.EBUSY;
            foreach (var e in victims)
            {
                Unregister(e);
                _events.Remove(e);
            }

            return 0;
        }
    }

    private int ExecuteFunctionEvent(string line)
    {
        if (line.StartsWith('!'))
        {
            lock (_lock)
            {
                var found = _events.FirstOrDefault(e => e.Kind == 'F' && e.Name == line[1..].Trim());
                if (found is null)
                    return -Errno.ENOENT;
                if (found.Enabled)
                    return -Errno.EBUSY;
                Unregister(found);
                _events.Remove(found);
                return 0;
            }
        }

        try
        {
            var command = FunctionEventSyntax.Translate(line, _trace.Core);
            var definition = new ProbeEventParser(_trace.Core).Parse(command);
            Add(command, definition with { Kind = 'F' }, line);
            return 0;
        }
        catch (ProbeEventException e)
        {
            Log(e, "function_events: error: ");
            return e.Errno;
        }
    }

    private void Unregister(ProbeEvent probeEvent)
    {
        if (probeEvent.Kretprobe is { } rp)
            _kprobes.Unregister(rp);
        else if (probeEvent.Kprobe is { } kp)
            _kprobes.Unregister(kp);
        _trace.RemoveEvent(probeEvent.Id);
        probeEvent.DisposeBpf();
    }

    /// <summary>events/GROUP/EVENT/enable: arms or disarms the event's probe.</summary>
    public int SetEnabled(ProbeEvent probeEvent, bool enabled)
    {
        ArgumentNullException.ThrowIfNull(probeEvent);
        lock (_lock)
        {
            if (probeEvent.Enabled == enabled)
                return 0;
            probeEvent.Enabled = enabled;
            var result = probeEvent.Kretprobe is { } rp
                ? (enabled ? _kprobes.Enable(rp) : _kprobes.Disable(rp))
                : (enabled ? _kprobes.Enable(probeEvent.Kprobe!) : _kprobes.Disable(probeEvent.Kprobe!));
            if (result != 0)
                probeEvent.Enabled = !enabled;
            return result;
        }
    }

    /// <summary>
    /// A write to events/GROUP/EVENT/filter: <c>0</c> clears, anything else is parsed in the kernel's filter grammar.
    /// Returns 0 or -EINVAL (the filter file then shows the error and its position).
    /// </summary>
    public int SetFilter(ProbeEvent probeEvent, string text)
    {
        ArgumentNullException.ThrowIfNull(probeEvent);
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed is "0" or "")
        {
            probeEvent.Filter = null;
            probeEvent.FilterError = null;
            return 0;
        }

        try
        {
            probeEvent.Filter = EventFilter.Parse(trimmed, probeEvent);
            probeEvent.FilterError = null;
            return 0;
        }
        catch (EventFilterException e)
        {
            probeEvent.FilterError = (trimmed, e);
            return -Errno.EINVAL;
        }
    }

    /// <summary>The filter file: the filter, <c>none</c>, or the rejected text with a caret and <c>parse_error: …</c>.</summary>
    public static string ReadFilter(ProbeEvent probeEvent)
    {
        ArgumentNullException.ThrowIfNull(probeEvent);
        return EventFilter.FilterFile(probeEvent.Filter, probeEvent.FilterError);
    }

    /// <summary>kprobe_events contents: one <c>p</c>/<c>r</c> definition per line.</summary>
    public string List() => string.Concat(Events.Where(e => Shows(ProbeFile.KprobeEvents, e)).Select(e => e.Definition + "\n"));

    /// <summary>dynamic_events contents (kprobe and fprobe events).</summary>
    public string ListDynamic() => string.Concat(Events.Where(e => Shows(ProbeFile.DynamicEvents, e)).Select(e => e.Definition + "\n"));

    /// <summary>function_events contents: the definitions as written.</summary>
    public string ListFunctionEvents() => string.Concat(Events.Where(e => e.Kind == 'F').Select(e => e.Definition + "\n"));

    /// <summary>kprobe_profile: <c>  %-44s %15lu %15lu</c> (event, hits, misses).</summary>
    public string Profile() => string.Concat(Events.Select(e => string.Create(CultureInfo.InvariantCulture, $"  {e.Name,-44} {e.Hits,15} {e.Misses,15}\n")));

    private void Log(ProbeEventException e, string location = "trace_kprobe: error: ")
    {
        lock (_lock)
        {
            if (_errors.Count == ErrorLogCapacity)
                _errors.Dequeue();
            _errors.Enqueue(new TracingError(_trace.Core.NowNs(), location, e.Message, e.Command, e.Position));
        }
    }

    /// <summary>The error_log file.</summary>
    public string ErrorLog()
    {
        lock (_lock)
        {
            var text = new StringBuilder();
            foreach (var error in _errors)
                text.Append(error);
            return text.ToString();
        }
    }

    /// <summary>The entries of error_log (newest last).</summary>
    public IReadOnlyList<TracingError> Errors
    {
        get
        {
            lock (_lock)
                return _errors.ToArray();
        }
    }

    /// <summary>Writing to error_log clears it.</summary>
    public void ClearErrors()
    {
        lock (_lock)
            _errors.Clear();
    }
}
