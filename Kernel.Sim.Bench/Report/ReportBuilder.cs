using System.Globalization;
using System.Runtime.InteropServices;
using Kernel.Sim.Bench.Benchmarks;
using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;
using Kernel.Sim.Native;
using Kernel.Sim.Net;

namespace Kernel.Sim.Bench.Report;

/// <summary>How <see cref="ReportBuilder.Write"/> runs.</summary>
public sealed record ReportOptions
{
    /// <summary>Only the model (fast; what CI runs): no native lab, no Stopwatch measurements.</summary>
    public bool Quick { get; init; }

    /// <summary>Where report.md, report.html and the charts go.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Where BenchmarkDotNet left its CSV reports (read when present).</summary>
    public string BenchmarkResultsDirectory { get; init; } = Path.Combine("BenchmarkDotNet.Artifacts", "results");

    /// <summary>Progress lines (one per section), or null.</summary>
    public TextWriter? Progress { get; init; }
}

/// <summary>What a report run wrote.</summary>
public sealed record ReportFiles(string Markdown, string Html, IReadOnlyList<string> Charts);

/// <summary>
/// <c>kernelsim report</c>: the model across profiles and strategies, and (unless quick) the measured parts — the
/// native lab with modest counts, Stopwatch timings of the managed mechanisms and of the hook ladder, and any
/// BenchmarkDotNet CSV results found — written as Markdown and HTML with ScottPlot charts in PNG and SVG.
/// </summary>
public static class ReportBuilder
{
    private const int ModelCalls = 20_000;

    private static readonly string[] PacketStrategies = ["indirect", "retpoline", "retpoline-lfence", "eibrs", "guard-hit", "static-call"];

    /// <summary>Runs everything and writes the report files.</summary>
    public static ReportFiles Write(ReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.OutputDirectory);
        var doc = new ReportDocument();
        var charts = new List<(string Name, ScottPlot.Plot Plot)>();
        void Chart(string name, string caption, ScottPlot.Plot plot)
        {
            doc.Chart(name, caption);
            charts.Add((name, plot));
        }

        doc.Heading(1, "KernelSim report");
        doc.Paragraph(F($"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `kernelsim report{(options.Quick ? " --quick" : string.Empty)}` on {Machine()}. ")
                        + (options.Quick ? "Quick mode: the model only; nothing was measured." : "Measured figures come from short runs on a machine that may be shared: read minima, not medians."));

        options.Progress?.WriteLine("model: cycles per call per mechanism and profile");
        ModelSection(doc, Chart);
        options.Progress?.WriteLine("model: INDIRECT_CALL guards against candidates and traffic");
        GuardSection(doc, Chart);
        options.Progress?.WriteLine("model: retpoline overhead per packet");
        PacketSection(doc, Chart);
        options.Progress?.WriteLine("model: the receive path per strategy");
        PathSection(doc, Chart, options.Quick);
        options.Progress?.WriteLine("bpf: JIT against interpreter against the host kernel");
        JitSection(doc, Chart, options.Quick);
        if (options.Quick)
        {
            doc.Heading(2, "Measured figures");
            doc.Paragraph("Not run in `--quick` mode: run `kernelsim report` without it for the native lab, the managed dispatch timings and the hook ladder.");
        }
        else
        {
            options.Progress?.WriteLine("native lab: measured against modelled");
            NativeSection(doc, Chart);
            options.Progress?.WriteLine("managed dispatch timings");
            ManagedSection(doc, Chart);
            options.Progress?.WriteLine("hook ladder");
            HookSection(doc, Chart, BenchmarkResults.Read(options.BenchmarkResultsDirectory));
        }

        BenchmarkSection(doc, BenchmarkResults.Read(options.BenchmarkResultsDirectory), options.BenchmarkResultsDirectory);
        doc.Heading(2, "Regenerating");
        doc.Code(F($"dotnet run -c Release --project Kernel.Sim.Bench -- report{(options.Quick ? " --quick" : string.Empty)} --out {options.OutputDirectory}"));
        if (ReportCharts.FontFamily is null)
            doc.Paragraph("Warning: no font was found on this machine, so the PNG charts have no text (the SVGs name their fonts and render anywhere). Install one with `scripts/install-report-fonts.sh` (fonts-dejavu-core), or name a font file in `KERNELSIM_REPORT_FONT`.");

        options.Progress?.WriteLine("charts");
        foreach (var (name, plot) in charts)
            ReportCharts.Save(plot, options.OutputDirectory, name);
        var markdown = Path.Combine(options.OutputDirectory, "report.md");
        var html = Path.Combine(options.OutputDirectory, "report.html");
        File.WriteAllText(markdown, doc.ToMarkdown());
        File.WriteAllText(html, doc.ToHtml("KernelSim report"));
        return new ReportFiles(markdown, html, doc.Charts);
    }

    private static void ModelSection(ReportDocument doc, Action<string, string, ScottPlot.Plot> chart)
    {
        doc.Heading(2, "Modelled cycles per call");
        doc.Paragraph(F($"`kernelsim model` for every built-in profile: {ModelCalls} calls after a warm-up pass of the same sequence, seed 1, guard and adaptive fallback = retpoline. ")
                        + "`mono` is one target; `random` is four targets drawn at random (what no predictor learns). Sources of every parameter: docs/cost-model.md.");
        foreach (var (pattern, targets) in new[] { (CallPattern.Mono, 1), (CallPattern.Random, 4) })
        {
            var name = pattern.ToString().ToLowerInvariant();
            var runs = CpuProfiles.BuiltIn.Select(p => (Profile: p, Results: DispatchModel.Run(p, targets, pattern, ModelCalls, 1))).ToArray();
            doc.Table(
                ["mechanism", .. runs.Select(r => r.Profile.Name)],
                DispatchModel.Mechanisms.Select(m => (IReadOnlyList<string>)[m, .. runs.Select(r => N(r.Results.First(x => x.Mechanism == m).CyclesPerCall))]));
            chart(
                $"model-cycles-{name}",
                $"Modelled cycles per call, {name} pattern ({targets} target{(targets > 1 ? "s" : string.Empty)})",
                ReportCharts.Bars(
                    $"Modelled cycles per call ({name}, {targets} target{(targets > 1 ? "s" : string.Empty)})",
                    "cycles per call",
                    DispatchModel.Mechanisms,
                    [.. runs.Select(r => new ChartSeries(r.Profile.Name, [.. DispatchModel.Mechanisms.Select(m => r.Results.First(x => x.Mechanism == m).CyclesPerCall)]))]));
        }
    }

    private static void GuardSection(ReportDocument doc, Action<string, string, ScottPlot.Plot> chart)
    {
        doc.Heading(2, "INDIRECT_CALL guards: hit rate and cost");
        doc.Paragraph("A real INDIRECT_CALL_1..4 guard (candidates ip_rcv, ipv6_rcv, arp_rcv, packet_rcv, added in that order) on the skylake profile with the retpoline fallback, "
                      + "against the same traffic through the plain retpoline call (dashed line). 20,000 calls per point, seeded traffic.");
        var mixes = new[]
        {
            ("concentrated", "ip_rcv=80,ipv6_rcv=15,arp_rcv=5"),
            ("two protocols", "ip_rcv=50,ipv6_rcv=50"),
            ("even over four", "ip_rcv=25,ipv6_rcv=25,arp_rcv=25,packet_rcv=25"),
            ("mostly uncovered", "arp_rcv=40,packet_rcv=30,tpacket_rcv=20,ip_rcv=10"),
        };
        var order = ModelTargets.All.Take(4).ToArray();
        var candidates = new double[] { 1, 2, 3, 4 };
        var cost = new List<ChartSeries>();
        var hitRate = new List<ChartSeries>();
        var rows = new List<IReadOnlyList<string>>();
        var retpoline = 0.0;
        foreach (var (label, mix) in mixes)
        {
            var traffic = ModelTargets.Traffic(mix, ModelCalls, 7);
            var outcomes = Enumerable.Range(1, 4).Select(n => GuardExperiment.Run(CpuProfiles.Skylake, Mitigation.Retpoline, order[..n], traffic)).ToArray();
            retpoline = outcomes[0].IndirectCycles;
            cost.Add(new ChartSeries(label, [.. outcomes.Select(o => o.GuardCycles)]));
            hitRate.Add(new ChartSeries(label, [.. outcomes.Select(o => o.HitRate * 100)]));
            rows.Add([$"{label} ({mix})", .. outcomes.Select(o => F($"{o.HitRate:P0} / {o.GuardCycles:F1}"))]);
        }

        doc.Table(["traffic (hit rate / cycles per call)", "1 candidate", "2", "3", "4"], rows);
        doc.Paragraph(F($"The plain retpoline call costs {retpoline:F1} cycles whatever the traffic."));
        chart("guard-cost", "Guard cost against the number of candidates, per traffic mix",
            ReportCharts.Lines("INDIRECT_CALL guard cost (skylake, retpoline fallback)", "candidates", "cycles per call", candidates, cost, ("plain retpoline", retpoline)));
        chart("guard-hit-rate", "Guard hit rate against the number of candidates, per traffic mix",
            ReportCharts.Lines("INDIRECT_CALL guard hit rate", "candidates", "hit rate (%)", candidates, hitRate));
    }

    private static void PacketSection(ReportDocument doc, Action<string, string, ScottPlot.Plot> chart)
    {
        doc.Heading(2, "Retpoline overhead against indirect calls per packet");
        doc.Paragraph("Modelled dispatch cost per packet = N indirect calls per packet x cycles per call (one target per site, steady state). "
                      + "Linux's receive path has a handful of indirect calls per packet (driver ops, the ptype handler, the L4 handler; "
                      + "Paolo Abeni's INDIRECT_CALL series avoided up to 4 per packet). The next section runs the simulated path itself.");
        var perCall = CpuProfiles.BuiltIn.ToDictionary(p => p.Name, p => DispatchModel.Run(p, 1, CallPattern.Mono, 2_000, 1).ToDictionary(r => r.Mechanism, r => r.CyclesPerCall));
        var n = Enumerable.Range(0, 11).Select(i => (double)i).ToArray();
        var skylake = perCall[CpuProfiles.Skylake.Name];
        chart("retpoline-per-packet", "Modelled dispatch cycles per packet against indirect calls per packet (skylake)",
            ReportCharts.Lines("Dispatch cycles per packet (skylake)", "indirect calls per packet", "cycles per packet", n,
                [.. PacketStrategies.Select(s => new ChartSeries(s, [.. n.Select(k => k * skylake[s])]))]));
        doc.Table(
            ["profile", .. PacketStrategies.Select(s => s + " (4 calls)"), "retpoline overhead (4 calls, ns)"],
            CpuProfiles.BuiltIn.Select(p => (IReadOnlyList<string>)
            [
                p.Name, .. PacketStrategies.Select(s => N(4 * perCall[p.Name][s])),
                N(4 * (perCall[p.Name]["retpoline"] - perCall[p.Name]["indirect"]) / p.NominalGhz),
            ]));
    }

    private static void PathSection(ReportDocument doc, Action<string, string, ScottPlot.Plot> chart, bool quick)
    {
        var packets = quick ? 200 : 2_000;
        doc.Heading(2, "The receive path: modelled cycles per packet per strategy");
        doc.Paragraph(F($"The simulated receive path (Kernel.Sim/Net, what `kernelsim run` drives) with every call site under one strategy; the default traffic mix (80% IPv4, 15% IPv6, 5% ARP; 70% UDP, 25% TCP, 5% ICMP), ")
                      + F($"{packets} packets per run after {PacketPathModel.WarmupPackets} warm-up packets (enough for the adaptive sites to learn), one CPU, a fresh kernel per strategy and profile. `dispatch` is the part spent reaching handlers."));
        using var traffic = TrafficPool.Generate(TrafficMix.Default, 1, 256, 1);
        var profiles = CpuProfiles.BuiltIn;
        var costs = profiles.ToDictionary(p => p.Name, p => DispatchStrategies.All.Select(s => PacketPathModel.Run(p, s, traffic, packets)).ToArray());
        doc.Table(
            ["strategy", .. profiles.Select(p => p.Name + " (total / dispatch)")],
            DispatchStrategies.All.Select((s, i) => (IReadOnlyList<string>)[s.Name(), .. profiles.Select(p => F($"{costs[p.Name][i].CyclesPerPacket:F0} / {costs[p.Name][i].DispatchPerPacket:F1}"))]));
        chart("path-dispatch-per-packet", "Modelled dispatch cycles per packet on the receive path, per strategy and profile",
            ReportCharts.Bars("Receive path: dispatch cycles per packet", "dispatch cycles per packet", [.. DispatchStrategies.All.Select(s => s.Name())],
                [.. profiles.Select(p => new ChartSeries(p.Name, [.. costs[p.Name].Select(c => c.DispatchPerPacket)]))]));
    }

    private static void JitSection(ReportDocument doc, Action<string, string, ScottPlot.Plot> chart, bool quick)
    {
        var (runs, repetitions) = quick ? (20, 2) : (2_000, 5);
        doc.Heading(2, "BPF: JIT against interpreter against the host kernel's JIT");
        doc.Paragraph(F($"Stopwatch, ns per run (minimum of {repetitions} batches; {runs} runs per batch, the sieve a tenth of that, the XDP program ten times as many): ")
                      + "the compute-bound programs of the Jit benchmark suite (raw programs over a memory buffer) and the clang-built `xdp_filter.o` dropping a UDP packet to port 9, "
                      + "through the ELF loader on our interpreter and JIT (context restored before each run, as `kernelsim bpf exec --repeat`) and, where the host allows bpf(2), "
                      + "loaded on the running kernel and run with BPF_PROG_TEST_RUN (never attached; its `duration`, measured inside the kernel's loop). Every engine's r0 is checked against the interpreter's."
                      + (quick ? " Quick mode: tiny counts, so these figures only show the chart works; run without `--quick` for real ones." : string.Empty));
        var timings = JitTimings.Run(runs, repetitions);
        doc.Table(
            ["program", "interpreter (ns)", "JIT (ns)", "host kernel (ns)", "JIT speed-up", "JIT / host"],
            timings.Select(t => (IReadOnlyList<string>)
            [
                t.Program, N(t.InterpreterNs), N(t.JitNs), double.IsNaN(t.HostNs) ? "not run" : N(t.HostNs),
                F($"{t.InterpreterNs / t.JitNs:F1}x"), double.IsNaN(t.HostNs) || t.HostNs == 0 ? "n/a" : F($"{t.JitNs / t.HostNs:F1}x"),
            ]));
        foreach (var t in timings.Where(t => t.HostNote is not null).GroupBy(t => t.HostNote))
            doc.Paragraph($"Host bar omitted for {string.Join(", ", t.Select(x => x.Program))}: {t.Key}.");
        // The sieve takes ~100x the others on the interpreter; one chart per scale keeps the small bars visible.
        var xdp = timings[^1];
        var raw = timings.Take(timings.Count - 1).ToArray();
        chart("jit-vs-interpreter", "Interpreter against JIT, ns per run, the Jit suite's programs",
            ReportCharts.Bars("BPF programs: interpreter vs JIT, ns per run", "ns per run", [.. raw.Select(t => t.Program)],
                [new ChartSeries("interpreter", [.. raw.Select(t => t.InterpreterNs)]), new ChartSeries("JIT", [.. raw.Select(t => t.JitNs)])]));
        chart("jit-vs-host", "xdp_filter.o: interpreter, JIT and the host kernel's JIT, ns per run" + (double.IsNaN(xdp.HostNs) ? " (host bar omitted: " + xdp.HostNote + ")" : string.Empty),
            ReportCharts.Bars($"{xdp.Program}: ns per run", "ns per run", ["interpreter", "JIT", "host kernel JIT"],
                [new ChartSeries("ns per run", [xdp.InterpreterNs, xdp.JitNs, xdp.HostNs])]));
    }

    private static void NativeSection(ReportDocument doc, Action<string, string, ScottPlot.Plot> chart)
    {
        doc.Heading(2, "Native lab: measured against modelled");
        if (!NativeLab.IsSupported)
        {
            doc.Paragraph($"The native lab cannot run on this machine: {NativeLab.UnsupportedReason}");
            return;
        }

        var report = NativeLab.Run(new NativeLabOptions { Calls = 50_000, Repetitions = 9, Warmups = 1 });
        var basis = NativeCalibration.BasisForThisHost();
        var calibrated = NativeCalibration.DeriveHostProfile(report, basis);
        doc.Paragraph(F($"Real x86-64 call loops (Iced), {report.Calls} calls x {report.Repetitions} runs per shape, core clock {report.CoreGhz:F2} GHz, TSC {report.TscGhz:F2} GHz, pinned: {report.Pinned}. ")
                        + F($"Model columns: the built-in profile for this vendor ({basis.Name}) and the `host` profile calibrated from this very run (what `kernelsim lab --calibrate` writes)."));
        var rows = new List<IReadOnlyList<string>>();
        var labels = new List<string>();
        var measured = new List<double>();
        var modelBasis = new List<double>();
        var modelHost = new List<double>();
        foreach (var r in report.Results)
        {
            var b = NativeLabModel.CyclesPerCall(basis, r.MechanismName, r.Pattern) ?? double.NaN;
            var h = NativeLabModel.CyclesPerCall(calibrated, r.MechanismName, r.Pattern) ?? double.NaN;
            rows.Add([$"{r.MechanismName} / {r.PatternName}", N(r.Ns.Min), N(r.Cycles.Min), N(r.Cycles.Median), N(b), N(h)]);
            labels.Add($"{r.MechanismName}/{r.PatternName}");
            measured.Add(r.Cycles.Min);
            modelBasis.Add(b);
            modelHost.Add(h);
        }

        doc.Table(["mechanism / pattern", "ns min", "cycles min", "cycles median", $"model {basis.Name}", "model host"], rows);
        chart("native-vs-model", "Native lab cycles per call (minimum) beside the model",
            ReportCharts.Bars("Measured (native lab) vs modelled cycles per call", "cycles per call", labels,
                [new ChartSeries("measured (min)", measured), new ChartSeries($"model {basis.Name}", modelBasis), new ChartSeries("model host (calibrated)", modelHost)]));
    }

    private static void ManagedSection(ReportDocument doc, Action<string, string, ScottPlot.Plot> chart)
    {
        doc.Heading(2, "Managed dispatch mechanisms (Stopwatch)");
        doc.Paragraph("The Calls primitives with the model off, as the simulated kernel runs them: 200,000 calls x 9 runs each (BenchmarkDotNet's Dispatch suite measures the same more carefully).");
        var timings = ManagedTimings.Dispatch(200_000, 9);
        doc.Table(["mechanism", "ns per call (min)", "ns per call (median)"], timings.Select(t => (IReadOnlyList<string>)[t.Name, N(t.MinNs), N(t.MedianNs)]));
        chart("managed-dispatch", "Managed dispatch mechanisms, ns per call (minimum of 9 runs)",
            ReportCharts.Bars("Managed dispatch, ns per call", "ns per call", [.. timings.Select(t => t.Name)], [new ChartSeries("min", [.. timings.Select(t => t.MinNs)])]));
    }

    private static void HookSection(ReportDocument doc, Action<string, string, ScottPlot.Plot> chart, IReadOnlyList<BenchmarkCsv> bench)
    {
        doc.Heading(2, "The ladder of hook costs");
        var hooks = bench.FirstOrDefault(b => b.Suite == "HooksBenchmarks");
        IReadOnlyList<Timing> ladder;
        if (hooks is not null)
        {
            doc.Paragraph(F($"From the BenchmarkDotNet Hooks suite results written {hooks.Written:yyyy-MM-dd HH:mm} UTC (mean ns per call)."));
            ladder = [.. hooks.Rows.Select(r =>
            {
                var ns = BenchmarkCsv.ParseNs(hooks.Cell(r, "Mean"));
                return new Timing($"{hooks.Cell(r, "Method")} ({hooks.Cell(r, "Attached")})", ns, ns);
            })];
        }
        else
        {
            doc.Paragraph("No BenchmarkDotNet Hooks results were found, so a quick Stopwatch measurement: one simulated kernel function (`long report_add(long a, long b)`) called 50,000 times x 7 runs per rung on a simulated CPU.");
            ladder = ManagedTimings.Hooks(50_000, 7);
        }

        doc.Table(["hook", "ns per call (min)", "ns per call (median)"], ladder.Select(t => (IReadOnlyList<string>)[t.Name, N(t.MinNs), N(t.MedianNs)]));
        chart("hook-ladder", "The ladder of hook costs, ns per call",
            ReportCharts.Bars("Hook costs, ns per call", "ns per call", [.. ladder.Select(t => t.Name)], [new ChartSeries("ns per call", [.. ladder.Select(t => t.MinNs)])]));
    }

    private static void BenchmarkSection(ReportDocument doc, IReadOnlyList<BenchmarkCsv> bench, string directory)
    {
        doc.Heading(2, "BenchmarkDotNet results");
        if (bench.Count == 0)
        {
            doc.Paragraph($"None found in `{directory}`. Run `dotnet run -c Release --project Kernel.Sim.Bench -- bench --filter '*' --job short` first to include them.");
            return;
        }

        foreach (var b in bench)
        {
            doc.Heading(3, $"{b.Suite} ({b.Written:yyyy-MM-dd HH:mm} UTC)");
            var columns = new[] { "Method", "Attached", "Mechanism", "Pattern", "Mean", "Min", "Median", "Ratio", "Allocated" }.Where(c => b.Header.Contains(c)).ToArray();
            doc.Table(columns, b.Rows.Select(r => (IReadOnlyList<string>)[.. columns.Select(c => b.Cell(r, c))]));
        }
    }

    private static string Machine()
    {
        var cpu = "an unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        var load = string.Empty;
        try
        {
            // The 1-minute load average says how busy the machine was while the figures were taken.
            load = File.Exists("/proc/loadavg") ? $", load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the start" : string.Empty;
        }
        catch (IOException)
        {
        }

        return $"{cpu} ({Environment.ProcessorCount} logical CPUs), {RuntimeInformation.OSDescription}, .NET {Environment.Version}{load}";
    }

    private static string N(double value) => double.IsNaN(value) ? "n/a" : value.ToString("F2", CultureInfo.InvariantCulture);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
