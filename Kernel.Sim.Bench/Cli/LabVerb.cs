using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Kernel.Sim.Cpu;
using Kernel.Sim.Native;

namespace Kernel.Sim.Bench.Cli;

/// <summary>
/// <c>kernelsim lab [--json] [--calibrate] [--calls N] [--repetitions N]</c>: runs the call shapes as real x86-64
/// machine code (Kernel.Sim.Native) and prints ns and core cycles per call, min/median/max over repetitions.
/// On a host without the lab it says so and exits 0. <c>--calibrate</c> derives the <c>host</c> CpuProfile from the
/// figures (<see cref="NativeCalibration"/>) and saves it where <c>--profile host</c> finds it.
/// </summary>
public sealed class LabVerb : IVerb
{
    public string Parent => "";

    public Command Build(CliContext context)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var calibrate = new Option<bool>("--calibrate") { Description = "Derive a 'host' CPU profile from the measurements and save it" };
        var calls = new Option<long>("--calls") { Description = "Calls per timed run", DefaultValueFactory = _ => new NativeLabOptions().Calls };
        var repetitions = new Option<int>("--repetitions") { Description = "Timed runs per mechanism and pattern", DefaultValueFactory = _ => new NativeLabOptions().Repetitions };
        var output = new Option<string?>("--out") { Description = $"Where --calibrate saves the host profile (default ${CpuProfiles.HostProfileVariable} or ~/.kernelsim/host-profile.json)" };
        var simulate = new Option<string?>("--simulate-unsupported") { Description = "Behave as on a host without the lab, with this reason (for tests)", Hidden = true };
        var command = new Command("lab", "Measure direct, indirect, retpoline, guard and static_call calls as real x86-64 code on this host");
        command.Options.Add(json);
        command.Options.Add(calibrate);
        command.Options.Add(calls);
        command.Options.Add(repetitions);
        command.Options.Add(output);
        command.Options.Add(simulate);
        command.SetAction(parsed =>
        {
            var options = new NativeLabOptions
            {
                Calls = parsed.GetValue(calls),
                Repetitions = parsed.GetValue(repetitions),
                SimulateUnsupported = parsed.GetValue(simulate),
            };
            if (options.Calls < 1)
                throw new CliUsageException($"--calls must be at least 1, not {options.Calls}");
            if (options.Repetitions < 1)
                throw new CliUsageException($"--repetitions must be at least 1, not {options.Repetitions}");
            NativeLabReport report;
            try
            {
                report = NativeLab.Run(options);
            }
            catch (Exception e) when (e is NativeLabException or InvalidOperationException)
            {
                // The host passed the probe but refused later (mapping limits), or a generated loop misbehaved.
                context.Error.WriteLine($"kernelsim lab: {e.Message}");
                return KernelSimCli.Failure;
            }

            Calibration? calibration = null;
            if (parsed.GetValue(calibrate) && report.Supported)
            {
                var path = parsed.GetValue(output) ?? CpuProfiles.DefaultHostProfilePath;
                var profile = NativeCalibration.DeriveHostProfile(report);
                try
                {
                    profile.Save(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    context.Error.WriteLine($"kernelsim lab: cannot write host profile {path}: {e.Message}");
                    return KernelSimCli.Failure;
                }

                calibration = new Calibration(Path.GetFullPath(path), profile);
            }

            if (parsed.GetValue(json))
                WriteJson(context.Out, report, calibration);
            else
                WriteTable(context.Out, report, calibration, parsed.GetValue(calibrate));
            return KernelSimCli.Success;
        });
        return command;
    }

    private sealed record Calibration(string Path, CpuProfile Profile);

    private static void WriteTable(TextWriter output, NativeLabReport report, Calibration? calibration, bool calibrationAsked)
    {
        if (!report.Supported)
        {
            output.WriteLine($"kernelsim lab: not supported on this host: {report.Reason}");
            if (calibrationAsked)
                output.WriteLine("kernelsim lab: no host profile written");
            return;
        }

        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"kernelsim lab: call shapes as x86-64 machine code, dependent chain, {report.Calls} calls x {report.Repetitions} repetitions{(report.Pinned ? ", thread pinned" : "")}"));
        output.WriteLine(string.Create(c, $"TSC {report.TscGhz:F3} GHz, core {report.CoreGhz:F3} GHz (dependent add chain), {report.CoreGhz / report.TscGhz:F3} cycles per TSC tick"));
        output.WriteLine();
        output.WriteLine($"{"mechanism",-24} {"pattern",-10} {"ns min",8} {"ns median",10} {"ns max",8} {"cyc min",8} {"cyc median",11} {"cyc max",8}");
        foreach (var r in report.Results)
        {
            output.WriteLine(string.Create(c,
                $"{r.MechanismName,-24} {r.PatternName,-10} {r.Ns.Min,8:F2} {r.Ns.Median,10:F2} {r.Ns.Max,8:F2} {r.Cycles.Min,8:F2} {r.Cycles.Median,11:F2} {r.Cycles.Max,8:F2}"));
        }

        output.WriteLine();
        if (report.Retarget is { } retarget)
        {
            output.WriteLine(string.Create(c,
                $"live retarget of a patched call (atomic 8-byte store + membarrier SYNC_CORE): median {retarget.Ns.Median:F0} ns, {retarget.Cycles.Median:F0} cycles"));
        }
        else
        {
            output.WriteLine($"live retarget not measured: {report.RetargetUnavailable}");
        }

        foreach (var (name, why) in NativeMechanisms.NotMeasurable)
            output.WriteLine($"{name}: not measurable in user mode: {why}");
        if (calibration != null)
        {
            output.WriteLine();
            output.WriteLine($"host profile written to {calibration.Path} (use --profile host): {calibration.Profile.Description}");
            output.WriteLine($"  default mitigation {calibration.Profile.DefaultMitigation}");
            foreach (var (name, cycles) in calibration.Profile.Costs())
                output.WriteLine(string.Create(c, $"  {name,-24} {cycles,10:F2} cycles"));
        }
    }

    private static void WriteJson(TextWriter output, NativeLabReport report, Calibration? calibration)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteBoolean("supported", report.Supported);
            // Every key is always present (null when it does not apply) so consumers need no special case.
            w.WriteString("reason", report.Reason);
            if (report.Supported)
            {
                w.WriteNumber("tsc_ghz", Math.Round(report.TscGhz, 4));
                w.WriteNumber("core_ghz", Math.Round(report.CoreGhz, 4));
                w.WriteNumber("calls", report.Calls);
                w.WriteNumber("repetitions", report.Repetitions);
                w.WriteBoolean("pinned", report.Pinned);
            }
            else
            {
                w.WriteNull("tsc_ghz");
                w.WriteNull("core_ghz");
            }

            w.WriteStartArray("results");
            foreach (var r in report.Results)
            {
                w.WriteStartObject();
                w.WriteString("mechanism", r.MechanismName);
                w.WriteString("pattern", r.PatternName);
                WriteFigures(w, r.Ns, r.Cycles, 3);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (report.Retarget is { } retarget)
            {
                w.WriteStartObject("retarget");
                WriteFigures(w, retarget.Ns, retarget.Cycles, 1);
                w.WriteEndObject();
            }

            if (calibration != null)
                w.WriteString("host_profile", calibration.Path);
            w.WriteStartObject("not_measurable");
            foreach (var (name, why) in NativeMechanisms.NotMeasurable)
                w.WriteString(name, why);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteFigures(Utf8JsonWriter w, NativeLabStatistic ns, NativeLabStatistic cycles, int digits)
    {
        w.WriteNumber("ns_median", Math.Round(ns.Median, digits));
        w.WriteNumber("cycles_median", Math.Round(cycles.Median, digits));
        w.WriteNumber("ns_min", Math.Round(ns.Min, digits));
        w.WriteNumber("ns_max", Math.Round(ns.Max, digits));
        w.WriteNumber("cycles_min", Math.Round(cycles.Min, digits));
        w.WriteNumber("cycles_max", Math.Round(cycles.Max, digits));
    }
}
