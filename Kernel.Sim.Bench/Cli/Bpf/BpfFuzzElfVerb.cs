using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Kernel.Sim.Bpf.Elf;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// <c>kernelsim bpf fuzz-elf --count N --seed S [--corpus DIR] [--out DIR] [--json]</c>: loads N mutated fixture
/// objects; any exception other than the loader's own error is a crash, written as a reproducer (exit 1).
/// </summary>
public sealed class BpfFuzzElfVerb : IVerb
{
    private const string DefaultCorpus = "Kernel.Sim.Tests/Bpf/Elf/Programs";

    public string Parent => "bpf";

    public Command Build(CliContext context)
    {
        var count = new Option<int>("--count") { Description = "number of mutated objects", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<int>("--seed") { Description = "random seed (iteration i of seed S is reproducible alone)", DefaultValueFactory = _ => 1 };
        var corpus = new Option<string?>("--corpus") { Description = "folder of .o files to mutate (default: " + DefaultCorpus + " found above the current folder)" };
        var outDir = new Option<string>("--out") { Description = "where crash reproducers are written", DefaultValueFactory = _ => "." };
        var json = new Option<bool>("--json") { Description = "print the counts as JSON" };
        var command = new Command("fuzz-elf", "Load mutated BPF ELF objects; report loaded/rejected/crashes");
        command.Options.Add(count);
        command.Options.Add(seed);
        command.Options.Add(corpus);
        command.Options.Add(outDir);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(corpus) ?? FindCorpus()
                ?? throw new CliUsageException($"no --corpus given and {DefaultCorpus} not found above {Environment.CurrentDirectory}");
            if (!Directory.Exists(dir))
                throw new CliUsageException($"--corpus {dir}: no such folder");
            var files = Directory.GetFiles(dir, "*.o").Order(StringComparer.Ordinal).Select(f => (Path.GetFileNameWithoutExtension(f), File.ReadAllBytes(f))).ToList();
            if (files.Count == 0)
                throw new CliUsageException($"--corpus {dir}: no .o files");
            var n = parse.GetValue(count);
            if (n < 0)
                throw new CliUsageException("--count must be >= 0");
            var s = parse.GetValue(seed);
            var report = new ElfFuzzer(files).Run(n, s);
            foreach (var c in report.CrashCases)
            {
                var path = Path.Combine(parse.GetValue(outDir)!, $"fuzz-elf-crash-{s}-{c.Iteration}.o");
                File.WriteAllBytes(path, c.Data);
                context.Error.WriteLine($"crash at iteration {c.Iteration} (seed {c.Seed}, {c.Mutation}): reproducer {path}");
                context.Error.WriteLine(c.Exception);
            }

            if (parse.GetValue(json))
            {
                var o = new JsonObject
                {
                    ["count"] = report.Count,
                    ["seed"] = s,
                    ["corpus_objects"] = files.Count,
                    ["loaded"] = report.Loaded,
                    ["rejected"] = report.Rejected,
                    ["crashes"] = report.Crashes,
                    ["seconds"] = Math.Round(report.Elapsed.TotalSeconds, 2),
                    ["mutations"] = new JsonObject(report.ByMutation.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                };
                context.Out.WriteLine(o.ToJsonString());
            }
            else
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"fuzz-elf: {report.Count} mutants of {files.Count} objects (seed {s}) in {report.Elapsed.TotalSeconds:F1} s: {report.Loaded} loaded, {report.Rejected} rejected, {report.Crashes} crashes"));
                context.Out.WriteLine("mutations: " + string.Join(", ", report.ByMutation.Select(kv => $"{kv.Key} {kv.Value}")));
                context.Out.WriteLine("rejections: " + string.Join(", ", report.RejectionKinds.OrderByDescending(kv => kv.Value).Take(8).Select(kv => $"{kv.Key} {kv.Value}")));
            }

            return report.Crashes == 0 ? KernelSimCli.Success : KernelSimCli.Failure;
        });
        return command;
    }

    private static string? FindCorpus()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, DefaultCorpus);
            if (Directory.Exists(candidate))
                return candidate;
        }

        return null;
    }
}
