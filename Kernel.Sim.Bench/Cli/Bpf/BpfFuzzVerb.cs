using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using Kernel.Sim.Bpf.Verifier.Fuzzing;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// <c>kernelsim bpf fuzz --count N --seed S [--json] [--out DIR] [--against-host]</c>: random and mutated
/// programs through the verifier; accepted ones run in the checked interpreter. Exit 1 on any soundness
/// violation, with a reproducer written.
/// </summary>
public sealed class BpfFuzzVerb : IVerb
{
    public string Parent => "bpf";

    public Command Build(CliContext context)
    {
        var count = new Option<int>("--count") { Description = "programs to generate", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "random seed", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "print the counts as JSON" };
        var outDir = new Option<string?>("--out") { Description = "where reproducers go (default: ./fuzz-repro)" };
        var againstHost = new Option<bool>("--against-host") { Description = "also load every program into the host kernel (as socket_filter) and report agreement" };
        var command = new Command("fuzz", "Fuzz the verifier: accepted programs must run without a memory fault");
        command.Options.Add(count);
        command.Options.Add(seed);
        command.Options.Add(json);
        command.Options.Add(outDir);
        command.Options.Add(againstHost);
        command.SetAction(parse =>
        {
            var n = parse.GetValue(count);
            if (n < 0)
                throw new CliUsageException("--count must not be negative");
            var dir = parse.GetValue(outDir) ?? "fuzz-repro";
            var host = parse.GetValue(againstHost);
            var fuzzer = new VerifierFuzzer(parse.GetValue(seed));
            int hostAsked = 0, hostAgree = 0, weAcceptHostRejects = 0, weRejectHostAccepts = 0, disagreementFiles = 0;
            string? hostNote = null;
            var sfOptions = new VerifierOptions { ProgramType = new SocketFilterProgramType(), LogLevel = 1 };
            var reasons = new Dictionary<string, int>(StringComparer.Ordinal);
            var summary = fuzzer.Run(n, fc =>
            {
                if (!fc.Accepted && fc.Error is not null)
                {
                    var key = System.Text.RegularExpressions.Regex.Replace(fc.Error.Split('\n')[0], "[-0-9]+", "N");
                    reasons[key] = reasons.GetValueOrDefault(key) + 1;
                }

                if (fc.RunError != Kernel.Sim.Bpf.Interpreter.BpfRunError.None)
                    WriteRepro(dir, "violation", fc.Program, fc.MemSize, $"accepted by the verifier, then at run time: {fc.RunMessage}");
                if (!host || hostNote is not null || fc.MemSize != 0)
                    return;
                // Programs without a memory block mean the same as socket filters (R1 unused): ask the host.
                var ours = Verifier.Verify(fc.Program, sfOptions);
                var theirs = HostBpf.Load(fc.Program, sfOptions, 1);
                if (!theirs.Available)
                {
                    hostNote = theirs.Note;
                    return;
                }

                hostAsked++;
                if (ours.Accepted == theirs.Accepted)
                {
                    hostAgree++;
                    return;
                }

                var kind = ours.Accepted ? "we-accept-host-rejects" : "we-reject-host-accepts";
                if (ours.Accepted)
                    weAcceptHostRejects++;
                else
                    weRejectHostAccepts++;
                if (disagreementFiles++ < 200)
                    WriteRepro(dir, kind, fc.Program, 0, $"kernelsim: {ours.Error ?? "accepted"}; host: {LastErrorLine(theirs.Log)}", "socket_filter");
            });

            if (parse.GetValue(json))
            {
                var doc = new Dictionary<string, object?>
                {
                    ["generated"] = summary.Generated,
                    ["accepted"] = summary.Accepted,
                    ["rejected"] = summary.Rejected,
                    ["violations"] = summary.Violations,
                    ["runs"] = summary.RunsExecuted,
                    ["top_rejections"] = reasons.OrderByDescending(r => r.Value).Take(12).ToDictionary(r => r.Key, r => r.Value),
                };
                if (host)
                {
                    doc["host_asked"] = hostAsked;
                    doc["host_agree"] = hostAgree;
                    doc["host_agreement_rate"] = hostAsked == 0 ? null : (double)hostAgree / hostAsked;
                    doc["we_accept_host_rejects"] = weAcceptHostRejects;
                    doc["we_reject_host_accepts"] = weRejectHostAccepts;
                    doc["host_note"] = hostNote;
                }

                context.Out.WriteLine(JsonSerializer.Serialize(doc));
            }
            else
            {
                context.Out.WriteLine($"generated {summary.Generated} accepted {summary.Accepted} rejected {summary.Rejected} violations {summary.Violations} (interpreter runs {summary.RunsExecuted})");
                if (host)
                {
                    context.Out.WriteLine(hostAsked == 0
                        ? $"host: not asked ({hostNote ?? "no program without a memory block was generated"})"
                        : string.Create(CultureInfo.InvariantCulture, $"host: asked {hostAsked}, agree {hostAgree} ({100.0 * hostAgree / hostAsked:F2}%), we accept/host rejects {weAcceptHostRejects}, we reject/host accepts {weRejectHostAccepts}"));
                }
            }

            if (summary.Violations > 0)
            {
                context.Error.WriteLine($"kernelsim: {summary.Violations} soundness violation(s); reproducers in {Path.GetFullPath(dir)}");
                return KernelSimCli.Failure;
            }

            return KernelSimCli.Success;
        });
        return command;
    }

    private static string LastErrorLine(string log)
    {
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length >= 2 ? lines[^2] : "accepted";
    }

    private static void WriteRepro(string dir, string kind, Kernel.Sim.Bpf.Isa.Instruction[] program, int memSize, string why, string type = "raw")
    {
        Directory.CreateDirectory(dir);
        var hash = 0L;
        foreach (var insn in program)
            hash = (hash * 31) + (long)insn.ToUInt64();
        var path = Path.Combine(dir, $"{kind}-{hash & 0xffffffffL:x8}.s");
        var sb = new StringBuilder();
        sb.Append("# ").Append(kind).Append(": ").Append(why.Replace('\n', ' ')).Append('\n');
        sb.Append("# type: ").Append(type).Append('\n');
        sb.Append("# mem: ").Append(memSize).Append('\n');
        sb.Append(LlvmDisassembler.Disassemble(program));
        File.WriteAllText(path, sb.ToString());
    }
}
