using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kernel.Sim.Calls;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Bench.Cli;

/// <summary>
/// <c>kernelsim model</c>: modelled cycles per call of every dispatch mechanism for a CPU profile, target count and
/// pattern. Deterministic: identical arguments print identical output.
/// </summary>
public sealed class ModelVerb : IVerb
{
    public string Parent => "";

    public Command Build(CliContext context)
    {
        var profile = new Option<string>("--profile", "-p")
        {
            Description = $"CPU profile: {string.Join(", ", CpuProfiles.Names)} (host = the file written by `lab --calibrate`)",
            DefaultValueFactory = _ => CpuProfiles.Skylake.Name,
        };
        var hostProfile = new Option<string?>("--host-profile") { Description = $"host profile file (default {CpuProfiles.DefaultHostProfilePath})" };
        var targets = new Option<int>("--targets", "-t") { Description = "distinct targets: 1, 2 or 4", DefaultValueFactory = _ => 1 };
        targets.AcceptOnlyFromAmong("1", "2", "4");
        var pattern = new Option<string>("--pattern") { Description = "target sequence: mono, alternate or random", DefaultValueFactory = _ => "mono" };
        pattern.AcceptOnlyFromAmong("mono", "alternate", "random");
        var calls = new Option<int>("--calls", "-n") { Description = "calls per mechanism", DefaultValueFactory = _ => 100_000 };
        var seed = new Option<ulong>("--seed", "-s") { Description = "seed of the random pattern", DefaultValueFactory = _ => 1 };
        var fallback = new Option<string>("--fallback")
        {
            Description = "mitigation of guard misses and the adaptive site's misses: none, retpoline, retpoline-lfence, eibrs, ibrs",
            DefaultValueFactory = _ => "retpoline",
        };
        fallback.AcceptOnlyFromAmong("none", "retpoline", "retpoline-lfence", "eibrs", "ibrs");
        var json = new Option<bool>("--json") { Description = "machine-readable output" };

        var command = new Command("model", "Modelled cycles per call for each dispatch mechanism (BTB, RSB, mitigations, guards, static_call)");
        foreach (var option in new Option[] { profile, hostProfile, targets, pattern, calls, seed, fallback, json })
            command.Options.Add(option);
        command.SetAction(parsed =>
        {
            var n = parsed.GetValue(calls);
            if (n is < 1 or > 100_000_000)
                throw new CliUsageException($"--calls must be 1..100000000, not {n}");
            var cpu = ResolveProfile(parsed.GetValue(profile)!, parsed.GetValue(hostProfile));
            var run = new ModelRun(
                cpu,
                parsed.GetValue(targets),
                Enum.Parse<CallPattern>(parsed.GetValue(pattern)!, ignoreCase: true),
                n,
                parsed.GetValue(seed),
                ParseMitigation(parsed.GetValue(fallback)!));
            var results = DispatchModel.Run(run.Profile, run.Targets, run.Pattern, run.Calls, run.Seed, run.Fallback);
            if (parsed.GetValue(json))
                context.Out.WriteLine(ToJson(run, results));
            else
                WriteTable(context.Out, run, results);
            return KernelSimCli.Success;
        });
        return command;
    }

    /// <summary>Maps a mitigation's command-line name (Linux's spectre_v2= spelling) to the enum.</summary>
    public static Mitigation ParseMitigation(string name) => name switch
    {
        "none" => Mitigation.None,
        "retpoline" => Mitigation.Retpoline,
        "retpoline-lfence" or "retpoline,lfence" => Mitigation.RetpolineLfence,
        "eibrs" => Mitigation.Eibrs,
        "ibrs" => Mitigation.Ibrs,
        _ => throw new CliUsageException($"unknown mitigation '{name}'"),
    };

    private static CpuProfile ResolveProfile(string name, string? hostPath)
    {
        try
        {
            return CpuProfiles.Resolve(name, hostPath);
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or FormatException or IOException)
        {
            throw new CliUsageException(e.Message);
        }
    }

    private static string ToJson(ModelRun run, IReadOnlyList<ModelResult> results)
    {
        var array = new JsonArray();
        foreach (var r in results)
        {
            array.Add(new JsonObject
            {
                ["mechanism"] = r.Mechanism,
                ["cycles_per_call"] = Math.Round(r.CyclesPerCall, 4),
                ["ns_per_call"] = Math.Round(r.NsPerCall, 4),
                ["mispredicts_per_call"] = Math.Round(r.MispredictsPerCall, 4),
                ["calls"] = r.Calls,
                ["text_pokes"] = r.TextPokes,
            });
        }

        var root = new JsonObject
        {
            ["profile"] = run.Profile.Name,
            ["targets"] = run.Targets,
            ["pattern"] = run.Pattern.ToString().ToLowerInvariant(),
            ["calls"] = run.Calls,
            ["seed"] = run.Seed,
            ["fallback"] = MitigationName(run.Fallback),
            ["results"] = array,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static void WriteTable(TextWriter output, ModelRun run, IReadOnlyList<ModelResult> results)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"profile {run.Profile.Name}, {run.Targets} target(s), {run.Pattern.ToString().ToLowerInvariant()} pattern, {run.Calls} calls, seed {run.Seed}, fallback {MitigationName(run.Fallback)}"));
        output.WriteLine($"{"mechanism",-24} {"cycles/call",12} {"ns/call",9} {"mispredicts/call",17} {"text pokes",11}");
        foreach (var r in results)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Mechanism,-24} {r.CyclesPerCall,12:F2} {r.NsPerCall,9:F3} {r.MispredictsPerCall,17:F3} {r.TextPokes,11}"));
        }
    }

    private static string MitigationName(Mitigation m) => m switch
    {
        Mitigation.RetpolineLfence => "retpoline-lfence",
        _ => m.ToString().ToLowerInvariant(),
    };

    private sealed record ModelRun(CpuProfile Profile, int Targets, CallPattern Pattern, int Calls, ulong Seed, Mitigation Fallback);
}
