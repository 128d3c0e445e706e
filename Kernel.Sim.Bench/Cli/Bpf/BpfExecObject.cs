using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kernel.Sim.Bpf;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// <c>kernelsim bpf exec FILE.o --prog NAME [--section SEC] [--type TYPE] [--engine interp|jit] [--ctx HEX|--packet HEX]
/// [--repeat N] [--json] [--dump-maps] [--host]</c>: loads the whole object (maps, global data, prog arrays) into a
/// fresh simulated BPF subsystem, runs one program, prints r0 last. The options are added to the exec verb.
/// </summary>
internal sealed class BpfExecObject
{
    private readonly Option<string?> prog = new("--prog") { Description = "FILE.o: the program (function name) to run" };
    private readonly Option<string?> section = new("--section") { Description = "FILE.o: pick the program by ELF section (with --prog when a section has several)" };
    private readonly Option<string?> type = new("--type") { Description = "FILE.o: force a program type (kprobe, xdp, socket_filter, raw, ...)" };
    private readonly Option<string?> ctx = new("--ctx") { Description = "FILE.o: the context bytes as hex (pt_regs for kprobe, __sk_buff for socket_filter)" };
    private readonly Option<string?> packet = new("--packet") { Description = "FILE.o: packet bytes as hex (xdp, socket_filter)" };
    private readonly Option<bool> dumpMaps = new("--dump-maps") { Description = "FILE.o: print every map afterwards in bpftool's map dump -j shape" };
    private readonly Option<bool> host = new("--host") { Description = "FILE.o: also run the program on the running kernel with BPF_PROG_TEST_RUN (nothing is attached)" };

    /// <summary>Adds the object options to the exec command.</summary>
    public static BpfExecObject AddOptions(Command command)
    {
        var o = new BpfExecObject();
        foreach (var opt in new Option[] { o.prog, o.section, o.type, o.ctx, o.packet, o.dumpMaps, o.host })
            command.Options.Add(opt);
        return o;
    }

    /// <summary>True when <paramref name="path"/> starts with the ELF magic.</summary>
    public static bool IsElf(string path)
    {
        if (!File.Exists(path))
            return false;
        Span<byte> magic = stackalloc byte[4];
        using var f = File.OpenRead(path);
        return f.Read(magic) == 4 && magic.SequenceEqual("\x7f"u8.ToArray().Concat("ELF"u8.ToArray()).ToArray());
    }

    public int Run(CliContext context, ParseResult parse, string path, string engine, int runs, bool json)
    {
        BpfObject obj;
        try
        {
            obj = BpfObject.LoadFile(path, new BpfObjectOptions { ForcedType = parse.GetValue(type) });
        }
        catch (BpfObjectException e)
        {
            context.Error.WriteLine($"kernelsim: {path}: {e.Message}");
            return KernelSimCli.Failure;
        }

        var spec = PickProgram(obj, parse.GetValue(prog), parse.GetValue(section));
        var ctxBytes = parse.GetValue(ctx) is { } c ? BpfProgramFile.ParseHex(c, "--ctx") : [];
        var packetBytes = parse.GetValue(packet) is { } p ? BpfProgramFile.ParseHex(p, "--packet") : [];
        if (spec.TypeName == "kprobe" && ctxBytes.Length == 0)
            ctxBytes = new byte[KprobeProgramType.PtRegsSize];
        using var bpf = new BpfSubsystem();
        BpfObjectInstance instance;
        try
        {
            instance = BpfObjectInstance.Load(obj, bpf, ProgramTypeRegistry.CreateDefault(), jit: engine == BpfEngine.Jit);
        }
        catch (BpfObjectException e)
        {
            context.Error.WriteLine($"kernelsim: {path}: {e.Message}");
            return KernelSimCli.Failure;
        }

        var loaded = instance.Programs[spec.Name];
        if (!loaded.IsLoaded)
        {
            context.Error.WriteLine($"kernelsim: {path}: prog '{spec.Name}' cannot run: {loaded.NotLoadedReason}");
            if (loaded.Verdict.Result is { Accepted: false } r)
                context.Error.Write(SourceAnnotator.Annotate(r.Log, spec));
            return KernelSimCli.Failure;
        }

        using var rc = instance.CreateContext(spec.TypeName, ctxBytes, packetBytes);
        var (result, ns, bestBatchNs) = RunOn(loaded, rc, runs);
        if (!result.Succeeded)
        {
            context.Error.WriteLine($"kernelsim: prog '{spec.Name}': {result.Message}");
            return KernelSimCli.Failure;
        }

        HostRun? hostRun = null;
        if (parse.GetValue(host))
            hostRun = HostBpf.RunObject(obj, spec, ctxBytes, packetBytes, runs);

        var r0 = "0x" + result.R0.ToString("x", CultureInfo.InvariantCulture);
        if (json)
        {
            var sb = new StringBuilder();
            sb.Append(CultureInfo.InvariantCulture, $"{{\"program\": \"{spec.Name}\", \"r0\": \"{r0}\", \"engine\": \"{engine}\", \"runs\": {runs}, \"ns_per_run\": {ns.ToString("0.0", CultureInfo.InvariantCulture)}, \"best_batch_ns_per_run\": {bestBatchNs.ToString("0.0", CultureInfo.InvariantCulture)}");
            if (hostRun is not null)
                sb.Append(CultureInfo.InvariantCulture, $", \"host\": {hostRun.ToJson()}");
            if (parse.GetValue(dumpMaps))
            {
                sb.Append(", \"maps\": {");
                sb.Append(string.Join(", ", instance.Maps.Where(Dumpable).Select(m => $"\"{m.Definition.Name}\": {MapDump.ToJson(m)}")));
                sb.Append('}');
            }

            context.Out.WriteLine(sb.Append('}').ToString());
            return KernelSimCli.Success;
        }

        if (parse.GetValue(dumpMaps))
        {
            foreach (var m in instance.Maps)
                context.Out.WriteLine(Dumpable(m) ? $"map {m.Definition.Name}: {MapDump.ToJson(m)}" : $"map {m.Definition.Name}: ({m.Type} maps cannot be dumped)");
        }

        if (runs > 1)
        {
            context.Out.WriteLine($"{runs.ToString(CultureInfo.InvariantCulture)} runs, {ns.ToString("0.0", CultureInfo.InvariantCulture)} ns per run ({engine})");
            context.Out.WriteLine($"fastest batch of {Math.Min(runs, BatchRuns).ToString(CultureInfo.InvariantCulture)} runs: {bestBatchNs.ToString("0.0", CultureInfo.InvariantCulture)} ns per run (the host's test run stops its timer while it yields the CPU)");
        }
        if (hostRun is not null)
            context.Out.WriteLine(hostRun.ToText());
        context.Out.WriteLine(r0);
        return KernelSimCli.Success;
    }

    private static bool Dumpable(BpfMap m) => m.Type is not (BpfMapType.Ringbuf or BpfMapType.PerfEventArray);

    private static BpfProgramSpec PickProgram(BpfObject obj, string? name, string? section)
    {
        var candidates = obj.Programs.Where(p => (name is null || p.Name == name) && (section is null || p.Section == section)).ToList();
        if (candidates.Count == 1)
            return candidates[0];
        var list = string.Join(", ", obj.Programs.Select(p => $"{p.Name} ({p.Section})"));
        if (candidates.Count == 0)
            throw new CliUsageException($"no program {(name is null ? "" : $"'{name}' ")}{(section is null ? "" : $"in section '{section}' ")}in the object (programs: {list})");
        throw new CliUsageException($"{candidates.Count} programs match; name one with --prog (programs: {list})");
    }

    /// <summary>
    /// Runs <paramref name="runs"/> times: the wall-clock mean per run, and the mean of the fastest batch of
    /// <see cref="BatchRuns"/> runs. On a loaded machine the scheduler preempts the loop and the mean counts that time;
    /// the host's BPF_PROG_TEST_RUN stops its timer whenever it yields the CPU, so the fastest batch is the figure to set
    /// next to the host's.
    /// </summary>
    private static (BpfRunResult Result, double NsPerRun, double BestBatchNs) RunOn(LoadedBpfProgram program, RunContext rc, int runs)
    {
        BpfRunResult once() => program.Run(rc.Memory);
        var result = once();
        if (runs == 1)
            return (result, 0, 0);
        var best = double.MaxValue;
        var started = Stopwatch.GetTimestamp();
        for (var done = 0; done < runs;)
        {
            var batch = Math.Min(BatchRuns, runs - done);
            var batchStarted = Stopwatch.GetTimestamp();
            // As BPF_PROG_TEST_RUN's repeat loop (bpf_test_run): the same ctx every run, not rebuilt between runs.
            for (var i = 0; i < batch; i++)
                result = once();

            if (batch == BatchRuns || done == 0)
                best = Math.Min(best, Stopwatch.GetElapsedTime(batchStarted).TotalNanoseconds / batch);
            done += batch;
        }

        return (result, Stopwatch.GetElapsedTime(started).TotalNanoseconds / runs, best);
    }

    private const int BatchRuns = 1000;
}
