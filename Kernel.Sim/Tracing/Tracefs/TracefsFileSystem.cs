using System.Globalization;
using Kernel.Sim.Core;
using Kernel.Sim.Tracing.ProbeEvents;

namespace Kernel.Sim.Tracing.Tracefs;

/// <summary>The result of reading a tracefs file: the text, or a negative errno.</summary>
public readonly record struct TracefsRead(int Errno, string Text);

/// <summary>
/// A facade over the tracing subsystem with tracefs's file names (<c>/sys/kernel/tracing</c>): reading and writing a
/// file does what it does in Linux. Paths are relative to the tracefs root, or absolute
/// (<c>/sys/kernel/tracing/...</c>, <c>/sys/kernel/debug/tracing/...</c>, plus <c>/sys/kernel/debug/kprobes/list</c>
/// and <c>/proc/kallsyms</c>). Writes return 0 or -errno, as write(2) would.
/// </summary>
public sealed class TracefsFileSystem
{
    private static readonly string[] RootFiles =
    [
        "available_events", "available_filter_functions", "available_tracers", "buffer_size_kb", "buffer_total_size_kb", "current_tracer",
        "dynamic_events", "enabled_functions", "error_log", "function_events", "kprobe_events", "kprobe_profile", "set_ftrace_filter",
        "set_ftrace_notrace", "trace", "trace_pipe", "tracing_on",
    ];

    private readonly KernelTracing _tracing;
    private readonly Dictionary<ITracepoint, (string Text, EventFilterException Error)> _tracepointFilterErrors = [];

    public TracefsFileSystem(KernelTracing tracing) => _tracing = tracing ?? throw new ArgumentNullException(nameof(tracing));

    private TraceArray Trace => _tracing.Trace;

    private ProbeEventManager Events => _tracing.ProbeEvents;

    /// <summary>Normalises a path to tracefs-relative form (null for the non-tracefs extras, kept absolute).</summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var p = path.Trim();
        foreach (var root in new[] { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" })
        {
            if (p == root)
                return string.Empty;
            if (p.StartsWith(root + "/", StringComparison.Ordinal))
                return p[(root.Length + 1)..].TrimEnd('/');
        }

        return p.StartsWith('/') ? p : p.Trim('/');
    }

    /// <summary>cat FILE.</summary>
    public TracefsRead Read(string path)
    {
        var p = Normalize(path);
        switch (p)
        {
            case "available_tracers":
                return Ok(string.Join(' ', TraceArray.AvailableTracers) + "\n");
            case "current_tracer":
                return Ok(Trace.CurrentTracer + "\n");
            case "tracing_on":
                return Ok(Trace.TracingOn ? "1\n" : "0\n");
            case "trace":
                return Ok(Trace.Output.ReadTrace());
            case "trace_pipe":
                return Ok(Trace.Output.ReadPipe());
            case "available_filter_functions":
                return Ok(_tracing.Core.Functions.AvailableFilterFunctions());
            case "available_events":
                return Ok(string.Concat(Trace.Tracepoints.Select(t => $"{t.Group}:{t.Name}\n").Concat(Events.Events.Select(e => $"{e.Group}:{e.Name}\n"))));
            case "set_ftrace_filter":
            {
                var names = _tracing.Ftrace.ListHash(Trace.GlobalOps, notrace: false);
                return Ok(names.Count == 0 ? "#### all functions enabled ####\n" : string.Concat(names.Select(n => n + "\n")));
            }

            case "set_ftrace_notrace":
            {
                var names = _tracing.Ftrace.ListHash(Trace.GlobalOps, notrace: true);
                return Ok(names.Count == 0 ? "#### no functions disabled ####\n" : string.Concat(names.Select(n => n + "\n")));
            }

            case "enabled_functions":
                return Ok(_tracing.Ftrace.EnabledFunctions());
            case "buffer_size_kb":
                return Ok(Invariant($"{Trace.Buffer.SizeKb}\n"));
            case "buffer_total_size_kb":
                return Ok(Invariant($"{Trace.Buffer.SizeKb * Trace.Buffer.CpuCount}\n"));
            case "options/overwrite":
                return Ok(Trace.Buffer.Overwrite ? "1\n" : "0\n");
            case "kprobe_events":
                return Ok(Events.List());
            case "dynamic_events":
                return Ok(Events.ListDynamic());
            case "function_events":
                return Ok(Events.ListFunctionEvents());
            case "kprobe_profile":
                return Ok(Events.Profile());
            case "error_log":
                return Ok(Events.ErrorLog());
            case "events/enable":
                return Ok(EnableState([.. Events.Events.Select(e => e.Enabled), .. Trace.Tracepoints.Select(t => t.Enabled)]) + "\n");
            case "/sys/kernel/debug/kprobes/list":
                return Ok(_tracing.Kprobes.List());
            case "/proc/kallsyms":
                return Ok(_tracing.Core.Symbols.ProcKallsyms());
        }

        if (TryPerCpuStats(p, out var stats))
            return Ok(stats);
        if (TryTracepointFile(p, out var tracepoint, out var groupTracepoints, out var tracepointFile))
        {
            switch (tracepointFile)
            {
                case "enable":
                    return Ok((tracepoint is null ? EnableState([.. groupTracepoints.Select(t => t.Enabled)]) : tracepoint.Enabled ? "1" : "0") + "\n");
                case "format" when tracepoint is not null:
                    return Ok(tracepoint.FormatFile());
                case "id" when tracepoint is not null:
                    return Ok(Invariant($"{tracepoint.Id}\n"));
                case "filter" when tracepoint is not null:
                    return Ok(EventFilter.FilterFile(tracepoint.Filter, _tracepointFilterErrors.TryGetValue(tracepoint, out var failed) ? failed : null));
            }
        }

        if (TryEventFile(p, out var probeEvent, out var groupEvents, out var file))
        {
            switch (file)
            {
                case "enable":
                    return Ok((probeEvent is null ? EnableState([.. groupEvents.Select(e => e.Enabled)]) : probeEvent.Enabled ? "1" : "0") + "\n");
                case "format" when probeEvent is not null:
                    return Ok(probeEvent.FormatFile());
                case "id" when probeEvent is not null:
                    return Ok(Invariant($"{probeEvent.Id}\n"));
                case "filter" when probeEvent is not null:
                    return Ok(ProbeEventManager.ReadFilter(probeEvent));
            }
        }

        return IsDirectory(p) ? new TracefsRead(-Errno.EISDIR, string.Empty) : new TracefsRead(-Errno.ENOENT, string.Empty);
    }

    /// <summary>echo TEXT &gt; FILE (<paramref name="append"/> false) or &gt;&gt; FILE (true). Returns 0 or -errno.</summary>
    public int Write(string path, string text, bool append = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var p = Normalize(path);
        var value = text.Trim();
        switch (p)
        {
            case "current_tracer":
                return Trace.SetTracer(value);
            case "tracing_on":
                return ParseBool(value, v => Trace.TracingOn = v);
            case "trace":
                Trace.Buffer.Reset();
                return 0;
            case "set_ftrace_filter":
                return WriteFilter(value, append, notrace: false);
            case "set_ftrace_notrace":
                return WriteFilter(value, append, notrace: true);
            case "buffer_size_kb":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var kb) || kb < 1)
                    return -Errno.EINVAL;
                Trace.Buffer.Resize(kb);
                return 0;
            case "options/overwrite":
                return ParseBool(value, v => Trace.Buffer.Overwrite = v);
            case "kprobe_events":
                return Events.Write(text, append);
            case "dynamic_events":
                return Events.WriteDynamic(text, append);
            case "function_events":
                return Events.WriteFunctionEvents(text, append);
            case "error_log":
                Events.ClearErrors();
                return 0;
            case "events/enable":
                return ParseBool(value, v => SetAllTracepoints(Trace.Tracepoints, v) == 0 ? SetAll(Events.Events, v) : -Errno.EINVAL);
            case "available_events":
            case "available_tracers":
            case "available_filter_functions":
            case "enabled_functions":
            case "kprobe_profile":
            case "trace_pipe":
            case "/sys/kernel/debug/kprobes/list":
            case "/proc/kallsyms":
                return -Errno.EACCES;
        }

        if (TryTracepointFile(p, out var tracepoint, out var groupTracepoints, out var tracepointFile))
        {
            switch (tracepointFile)
            {
                case "enable":
                    return tracepoint is null
                        ? ParseBool(value, v => SetAllTracepoints(groupTracepoints, v))
                        : ParseBool(value, v => SetAllTracepoints([tracepoint], v));
                case "filter" when tracepoint is not null:
                    return SetTracepointFilter(tracepoint, value);
                case "format":
                case "id":
                    return -Errno.EACCES;
            }
        }

        if (TryEventFile(p, out var probeEvent, out var groupEvents, out var file))
        {
            switch (file)
            {
                case "enable":
                    return probeEvent is null
                        ? ParseBool(value, v => SetAll(groupEvents, v))
                        : ParseBool(value, v => Events.SetEnabled(probeEvent, v));
                case "filter" when probeEvent is not null:
                    return Events.SetFilter(probeEvent, value);
                case "format":
                case "id":
                    return -Errno.EACCES;
            }
        }

        return IsDirectory(p) ? -Errno.EISDIR : -Errno.ENOENT;
    }

    /// <summary>ls DIR: the entries of a directory (directories end with '/'), or null when it does not exist.</summary>
    public IReadOnlyList<string>? List(string path)
    {
        var p = Normalize(path);
        if (p.Length == 0)
            return [.. RootFiles, "events/", "options/", "per_cpu/"];
        if (p == "options")
            return ["overwrite"];
        if (p == "per_cpu")
            return Enumerable.Range(0, _tracing.Core.Cpus.Count).Select(c => $"cpu{c}/").ToArray();
        if (p.StartsWith("per_cpu/cpu", StringComparison.Ordinal) && IsDirectory(p))
            return ["stats"];
        if (p == "events")
            return ["enable", .. Events.Events.Select(e => e.Group).Concat(Trace.Tracepoints.Select(t => t.Group)).Distinct().Order(StringComparer.Ordinal).Select(g => g + "/")];
        var parts = p.Split('/');
        var tracepoints = Trace.Tracepoints;
        if (parts[0] == "events" && parts.Length == 2 && tracepoints.Any(t => t.Group == parts[1]))
            return ["enable", .. tracepoints.Where(t => t.Group == parts[1]).Select(t => t.Name + "/")];
        if (parts[0] == "events" && parts.Length == 3 && tracepoints.Any(t => t.Group == parts[1] && t.Name == parts[2]))
            return ["enable", "filter", "format", "id"];
        if (parts[0] == "events" && parts.Length == 2 && Events.Events.Any(e => e.Group == parts[1]))
            return ["enable", .. Events.Events.Where(e => e.Group == parts[1]).Select(e => e.Name + "/")];
        if (parts[0] == "events" && parts.Length == 3 && Events.Find(parts[1], parts[2]) is not null)
            return ["enable", "filter", "format", "id"];
        return null;
    }

    private bool IsDirectory(string p) =>
        p.Length == 0 || p is "events" or "options" or "per_cpu"
        || (p.StartsWith("per_cpu/cpu", StringComparison.Ordinal) && int.TryParse(p.AsSpan(11), out var c) && c >= 0 && c < _tracing.Core.Cpus.Count)
        || (p.StartsWith("events/", StringComparison.Ordinal) && List(p) is not null);

    private int WriteFilter(string value, bool append, bool notrace)
    {
        var ops = Trace.GlobalOps;
        var globs = value.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (!append)
            _tracing.Ftrace.ResetFilter(ops, notrace);
        foreach (var glob in globs)
        {
            var result = notrace ? _tracing.Ftrace.SetNotrace(ops, glob, reset: false) : _tracing.Ftrace.SetFilter(ops, glob, reset: false);
            if (result != 0)
                return result;
        }

        return 0;
    }

    private bool TryPerCpuStats(string p, out string text)
    {
        text = string.Empty;
        if (!p.StartsWith("per_cpu/cpu", StringComparison.Ordinal) || !p.EndsWith("/stats", StringComparison.Ordinal))
            return false;
        if (!int.TryParse(p.AsSpan(11, p.Length - 11 - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var cpu) || cpu >= Trace.Buffer.CpuCount)
            return false;
        var s = Trace.Buffer.Stats(cpu);
        var now = _tracing.Core.Cpus[cpu].ClockNs;
        var oldest = Trace.Buffer.Peek(cpu)?.TimestampNs ?? 0;
        text = Invariant($"entries: {s.Entries}\noverrun: {s.Overrun}\ncommit overrun: 0\nbytes: {s.Bytes}\noldest event ts: {Seconds(oldest)}\nnow ts: {Seconds(now)}\ndropped events: {s.DroppedEvents}\nread events: {s.ReadEvents}\n");
        return true;
    }

    private static string Seconds(long ns) => Invariant($"{ns / 1_000_000_000,5}.{ns % 1_000_000_000 / 1000:D6}");

    private bool TryEventFile(string p, out ProbeEvent? probeEvent, out IReadOnlyList<ProbeEvent> groupEvents, out string file)
    {
        probeEvent = null;
        groupEvents = [];
        file = string.Empty;
        var parts = p.Split('/');
        if (parts[0] != "events")
            return false;
        if (parts.Length == 3)
        {
            groupEvents = Events.Events.Where(e => e.Group == parts[1]).ToArray();
            file = parts[2];
            return groupEvents.Count > 0 && file == "enable";
        }

        if (parts.Length == 4)
        {
            probeEvent = Events.Find(parts[1], parts[2]);
            file = parts[3];
            return probeEvent is not null;
        }

        return false;
    }

    private static string EnableState(IReadOnlyList<bool> enabled) =>
        enabled.Count == 0 || enabled.All(e => !e) ? "0" : enabled.All(e => e) ? "1" : "X";

    /// <summary>events/GROUP/enable or events/GROUP/EVENT/FILE of a kernel tracepoint (the group's only when EVENT is absent).</summary>
    private bool TryTracepointFile(string p, out ITracepoint? tracepoint, out IReadOnlyList<ITracepoint> group, out string file)
    {
        tracepoint = null;
        group = [];
        file = string.Empty;
        var parts = p.Split('/');
        if (parts[0] != "events" || parts.Length is not (3 or 4))
            return false;
        group = Trace.Tracepoints.Where(t => t.Group == parts[1]).ToArray();
        if (parts.Length == 3)
        {
            file = parts[2];
            return group.Count > 0 && file == "enable";
        }

        tracepoint = group.FirstOrDefault(t => t.Name == parts[2]);
        file = parts[3];
        return tracepoint is not null;
    }

    private static int SetAllTracepoints(IReadOnlyList<ITracepoint> tracepoints, bool enabled)
    {
        foreach (var t in tracepoints)
            t.Enabled = enabled;
        return 0;
    }

    /// <summary>events/GROUP/EVENT/filter of a tracepoint: the kernel's filter grammar over its format fields ("0" clears).</summary>
    private int SetTracepointFilter(ITracepoint tracepoint, string value)
    {
        _tracepointFilterErrors.Remove(tracepoint);
        if (value is "0" or "")
        {
            tracepoint.Filter = null;
            return 0;
        }

        try
        {
            tracepoint.Filter = EventFilter.Parse(value, tracepoint.Fields);
            return 0;
        }
        catch (EventFilterException e)
        {
            _tracepointFilterErrors[tracepoint] = (value, e);
            return -Errno.EINVAL;
        }
    }

    private int SetAll(IReadOnlyList<ProbeEvent> events, bool enabled)
    {
        foreach (var e in events)
        {
            var result = Events.SetEnabled(e, enabled);
            if (result != 0)
                return result;
        }

        return 0;
    }

    private static int ParseBool(string value, Action<bool> apply)
    {
        if (value is not ("0" or "1"))
            return -Errno.EINVAL;
        apply(value == "1");
        return 0;
    }

    private static int ParseBool(string value, Func<bool, int> apply) =>
        value is "0" or "1" ? apply(value == "1") : -Errno.EINVAL;

    private static TracefsRead Ok(string text) => new(0, text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The shell's view of a failed write: <c>write error: Invalid argument</c>.</summary>
    public static string DescribeWriteError(int errno) => "write error: " + Core.Errno.Describe(errno);
}
