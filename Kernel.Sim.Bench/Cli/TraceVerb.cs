using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Kernel.Sim.Core;
using Kernel.Sim.Hosting;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Tracing.Bpf;
using Kernel.Sim.Tracing.ProbeEvents;

namespace Kernel.Sim.Bench.Cli;

/// <summary>
/// <c>kernelsim trace</c>: configures tracing as trace-cmd does (tracer, function filters, probe events), runs a
/// workload of the simulated kernel and prints the trace in the kernel's format.
/// </summary>
public sealed class TraceVerb : IVerb
{
    public string Parent => string.Empty;

    public Command Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var plugin = new Option<string?>("-p", "--plugin") { Description = "Tracer: function or function_graph (nop when only -e is given)" };
        var filters = new Option<string[]>("-l") { Description = "Limit function tracing to functions matching GLOB (set_ftrace_filter)", AllowMultipleArgumentsPerToken = false };
        var notrace = new Option<string[]>("-n") { Description = "Never trace functions matching GLOB (set_ftrace_notrace)" };
        var events = new Option<string[]>("-e") { Description = "A kernel trace event as trace-cmd names it (SYSTEM:EVENT or SYSTEM, e.g. net:netif_receive_skb), or a probe event definition in kprobe_events syntax, e.g. 'p:myprobe ip_rcv len=+112(%di):u32'" };
        var eventFilters = new Option<string[]>("--filter") { Description = "An event filter 'EVENT:EXPR' (or 'GROUP/EVENT:EXPR') in the kernel's filter grammar, for a probe event or a kernel tracepoint" };
        var workload = new Option<string>("--workload") { Description = "Workload to run: syscall, net or all", DefaultValueFactory = _ => "all" };
        var iterations = new Option<int>("--iterations") { Description = "Rounds of the workload", DefaultValueFactory = _ => 1 };
        var cpus = new Option<int>("--cpus") { Description = "Simulated CPUs (workloads run one per CPU in turn)", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Machine-readable output" };
        var available = new Option<bool>("--available-functions") { Description = "Print available_filter_functions and exit" };
        var fetch = new Option<string>("--fetch") { Description = "How probe events fetch their arguments: classic (fetch-step chain) or bpf (one verified, JIT-compiled BPF program per event)", DefaultValueFactory = _ => "classic" };
        var bpfObjects = new Option<string[]>("--bpf") { Description = "A clang -target bpf object: its kprobe/, kretprobe/, fentry/, fexit/, tracepoint/ and raw_tracepoint/ programs are loaded, verified and attached; their maps are printed after the trace" };
        var bpfCookies = new Option<string[]>("--bpf-cookie") { Description = "PROG=VALUE: the attach cookie (decimal or 0x hex) bpf_get_attach_cookie returns to the --bpf program PROG" };
        var showBpf = new Option<bool>("--show-bpf") { Description = "With --fetch bpf: print each event's generated program (LLVM syntax) and its verifier log before the trace" };
        var command = new Command("trace", "Trace the simulated kernel (ftrace function/function_graph tracers, kprobe events)");
        foreach (var option in new Option[] { plugin, filters, notrace, events, eventFilters, workload, iterations, cpus, json, available, fetch, showBpf, bpfObjects, bpfCookies })
            command.Options.Add(option);
        command.SetAction(parse => Run(
            context,
            parse.GetValue(plugin),
            parse.GetValue(filters) ?? [],
            parse.GetValue(notrace) ?? [],
            parse.GetValue(events) ?? [],
            parse.GetValue(eventFilters) ?? [],
            parse.GetValue(workload)!,
            parse.GetValue(iterations),
            parse.GetValue(cpus),
            parse.GetValue(json),
            parse.GetValue(available),
            parse.GetValue(fetch)!,
            parse.GetValue(showBpf),
            parse.GetValue(bpfObjects) ?? [],
            parse.GetValue(bpfCookies) ?? []));
        return command;
    }

    private static int Run(CliContext context, string? plugin, string[] filters, string[] notrace, string[] events, string[] eventFilters, string workload, int iterations, int cpus, bool json, bool available, string fetch = "classic", bool showBpf = false, string[]? bpfObjects = null, string[]? bpfCookies = null)
    {
        bpfObjects ??= [];
        var cookies = ParseCookies(bpfCookies ?? []);
        var engine = fetch switch
        {
            "classic" => FetchEngine.Classic,
            "bpf" => FetchEngine.Bpf,
            _ => throw new CliUsageException($"--fetch {fetch}: expected classic or bpf"),
        };
        if (cpus < 1)
            throw new CliUsageException("--cpus must be at least 1");
        if (iterations < 0)
            throw new CliUsageException("--iterations must not be negative");
        using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = cpus });
        kernel.Workloads.InstallAll();
        var fs = kernel.Tracing.Tracefs;
        if (available)
        {
            context.Out.Write(kernel.Core.Functions.AvailableFilterFunctions());
            return KernelSimCli.Success;
        }

        var names = workload == "all" ? kernel.Workloads.Names : [workload];
        if (names.Any(n => !kernel.Workloads.Names.Contains(n)))
            throw new CliUsageException($"unknown workload '{workload}' (have: all, {string.Join(", ", kernel.Workloads.Names)})");
        var tracer = plugin ?? ((events.Length > 0 || bpfObjects.Length > 0) && filters.Length == 0 && notrace.Length == 0 ? "nop" : "function");
        if (tracer is not ("function" or "function_graph" or "nop"))
            throw new CliUsageException($"-p {tracer}: unknown tracer (available: function_graph function nop)");
        foreach (var glob in filters)
            Check(fs.Write("set_ftrace_filter", glob, append: true), $"-l '{glob}'");
        foreach (var glob in notrace)
            Check(fs.Write("set_ftrace_notrace", glob, append: true), $"-n '{glob}'");
        foreach (var definition in events)
        {
            if (FindTracepoints(kernel, definition) is { Count: > 0 } tracepoints)
            {
                foreach (var tracepoint in tracepoints)
                    tracepoint.Enabled = true;
                continue;
            }

            try
            {
                var probeEvent = kernel.Tracing.ProbeEvents.Add(definition);
                kernel.Tracing.ProbeEvents.SetEnabled(probeEvent, true);
            }
            catch (ProbeEventException e)
            {
                context.Error.WriteLine($"kernelsim: trace_kprobe: error: {e.Message}");
                context.Error.WriteLine(e.Caret);
                return KernelSimCli.BadInput;
            }
        }

        foreach (var spec in eventFilters)
        {
            var colon = spec.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
                throw new CliUsageException($"--filter '{spec}': expected EVENT:EXPR");
            var name = spec[..colon];
            var slash = name.IndexOf('/', StringComparison.Ordinal);
            bool Named(string group, string eventName) => slash < 0 ? eventName == name : group == name[..slash] && eventName == name[(slash + 1)..];
            if (kernel.Tracing.ProbeEvents.Events.FirstOrDefault(e => Named(e.Group, e.Name)) is { } target)
            {
                if (kernel.Tracing.ProbeEvents.SetFilter(target, spec[(colon + 1)..]) != 0)
                {
                    context.Error.WriteLine($"kernelsim: --filter: {ProbeEventManager.ReadFilter(target).TrimEnd('\n').Replace("\n", "\n  ", StringComparison.Ordinal)}");
                    return KernelSimCli.BadInput;
                }

                continue;
            }

            // A kernel tracepoint: through its tracefs filter file, which keeps the error as Linux's does.
            var tracepoint = kernel.Tracing.Trace.Tracepoints.FirstOrDefault(t => Named(t.Group, t.Name))
                ?? throw new CliUsageException($"--filter '{spec}': no event '{name}' (define it with -e, or name a tracepoint as SYSTEM/EVENT)");
            var file = $"events/{tracepoint.Group}/{tracepoint.Name}/filter";
            if (fs.Write(file, spec[(colon + 1)..]) != 0)
            {
                context.Error.WriteLine($"kernelsim: --filter: {fs.Read(file).Text.TrimEnd('\n').Replace("\n", "\n  ", StringComparison.Ordinal)}");
                return KernelSimCli.BadInput;
            }
        }

        kernel.Tracing.ProbeEvents.FetchEngine = engine;
        if (showBpf)
        {
            foreach (var e in kernel.Tracing.ProbeEvents.Events)
            {
                if (e.BpfProgram is not { } compiled)
                    continue;
                context.Out.WriteLine($"# fetch program of {e.Group}/{e.Name} ({compiled.Program.Instructions.Count} insns, filter {(compiled.Filter is null ? "not compiled" : "compiled")}):");
                context.Out.Write(compiled.Program.Disassembly);
                context.Out.WriteLine($"# verifier log of {e.Group}/{e.Name}:");
                context.Out.Write(compiled.Program.Verdict.Log);
                context.Out.WriteLine();
            }
        }

        var attached = new List<(string File, AttachedBpfObject Object)>();
        var loaded = new List<(string File, BpfObject Object)>();
        foreach (var file in bpfObjects)
        {
            try
            {
                loaded.Add((file, BpfObject.LoadFile(file)));
            }
            catch (Exception e) when (e is BpfObjectException or IOException)
            {
                context.Error.WriteLine($"kernelsim: --bpf {file}: {e.Message}");
                return KernelSimCli.BadInput;
            }
        }

        if (cookies.Keys.FirstOrDefault(name => !loaded.Any(o => o.Object.Programs.Any(p => p.Name == name))) is { } unknown)
            throw new CliUsageException($"--bpf-cookie {unknown}=...: no program '{unknown}' in the --bpf objects");
        foreach (var (file, obj) in loaded)
        {
            try
            {
                attached.Add((file, BpfObjectAttacher.Attach(kernel.Tracing, obj, cookies)));
            }
            catch (Exception e) when (e is BpfObjectException or BpfLoadException or BpfAttachException or IOException)
            {
                context.Error.WriteLine($"kernelsim: --bpf {file}: {e.Message}");
                return KernelSimCli.BadInput;
            }
        }

        Check(kernel.Tracing.Trace.SetTracer(tracer), $"-p {tracer}");
        var cpu = 0;
        foreach (var name in names)
        {
            kernel.Workloads.Run(name, iterations, cpu);
            cpu = (cpu + 1) % cpus;
        }

        var trace = kernel.Tracing.Trace;
        trace.TracingOn = false;
        var text = trace.Output.ReadTrace();
        if (!json)
        {
            context.Out.Write(text);
            foreach (var (file, obj) in attached)
            {
                context.Out.WriteLine($"# bpf {Path.GetFileName(file)}: {obj.Links.Count + obj.TracepointLinkCount} program(s) attached{string.Concat(obj.Skipped.Select(s => $", {s.Program} not attached ({s.Reason})"))}");
                foreach (var map in obj.Maps)
                    context.Out.WriteLine($"# map {map.Definition.Name}: {MapDump.ToJson(map)}");
            }

            return KernelSimCli.Success;
        }

        var lines = text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        var document = new
        {
            tracer,
            cpus,
            entries_in_buffer = trace.Buffer.Entries,
            entries_written = trace.Buffer.EntriesWritten,
            events = kernel.Tracing.ProbeEvents.Events
                .Select(e => new Dictionary<string, object?> { ["type"] = "probe_event", ["group"] = e.Group, ["name"] = e.Name, ["definition"] = e.Definition, ["hits"] = e.Hits, ["misses"] = e.Misses })
                .Concat(kernel.Tracing.Trace.Tracepoints.Where(t => t.Enabled)
                    .Select(t => new Dictionary<string, object?> { ["type"] = "tracepoint", ["group"] = t.Group, ["name"] = t.Name, ["filter"] = t.Filter?.Text, ["hits"] = (t as Tracepoint)?.Hits })),
            bpf = attached.Select(a => new { file = a.File, maps = a.Object.Maps.ToDictionary(m => m.Definition.Name, m => JsonDocument.Parse(MapDump.ToJson(m)).RootElement) }),
            entries = TraceJson.Entries(trace),
            lines,
        };
        context.Out.WriteLine(JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        return KernelSimCli.Success;
    }

    /// <summary>The kernel tracepoints <paramref name="name"/> selects as trace-cmd's <c>-e</c> does: <c>SYSTEM:EVENT</c>, <c>SYSTEM/EVENT</c> or a whole <c>SYSTEM</c>.</summary>
    private static List<Tracing.ITracepoint> FindTracepoints(SimulatedKernel kernel, string name)
    {
        var separator = name.IndexOfAny([':', '/']);
        var all = kernel.Tracing.Trace.Tracepoints;
        return separator < 0
            ? [.. all.Where(t => t.Group == name)]
            : [.. all.Where(t => t.Group == name[..separator] && t.Name == name[(separator + 1)..])];
    }

    /// <summary><c>PROG=VALUE</c> pairs, VALUE decimal or <c>0x</c> hex (a u64, as bpf_cookie is).</summary>
    private static Dictionary<string, ulong> ParseCookies(string[] specs)
    {
        var cookies = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            var eq = spec.IndexOf('=', StringComparison.Ordinal);
            var text = eq < 0 ? "" : spec[(eq + 1)..];
            var hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
            if (eq <= 0 || !ulong.TryParse(hex ? text[2..] : text, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                throw new CliUsageException($"--bpf-cookie '{spec}': expected PROG=VALUE with VALUE a u64 (decimal or 0x hex)");
            cookies[spec[..eq]] = value;
        }

        return cookies;
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
            throw new CliUsageException($"{what}: {Errno.Describe(result)}");
    }
}
