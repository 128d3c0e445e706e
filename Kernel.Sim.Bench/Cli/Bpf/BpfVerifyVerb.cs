using System.CommandLine;
using System.Text.Json;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// <c>kernelsim bpf verify FILE [--type T] [--mem-size N] [--unpriv] [--log-level 0|1|2] [--json] [--host]</c>:
/// runs the verifier and prints Linux's log; exit 0 accepted, 1 rejected, 2 bad input.
/// </summary>
public sealed class BpfVerifyVerb : IVerb
{
    public string Parent => "bpf";

    public Command Build(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "LLVM-syntax text (with optional '# type:/# mem:/# map:' headers), a conformance .data file, conformance text or .bin" };
        var type = new Option<string?>("--type") { Description = "program type: raw, socket_filter, kprobe, xdp (default: the file's '# type:', else raw)" };
        var memSize = new Option<int?>("--mem-size") { Description = "raw: size of the memory R1 points to (default: the .data file's -- mem or '# mem:')" };
        var unpriv = new Option<bool>("--unpriv") { Description = "verify as an unprivileged load" };
        var logLevel = new Option<int>("--log-level") { Description = "0 errors only, 1 the failing path, 2 every instruction", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "print the verdict, statistics and log as JSON" };
        var host = new Option<bool>("--host") { Description = "also load the program into the running kernel with bpf(2) and compare" };
        var command = new Command("verify", "Verify an eBPF program as Linux's verifier does and print its log");
        command.Arguments.Add(file);
        command.Options.Add(type);
        command.Options.Add(memSize);
        command.Options.Add(unpriv);
        command.Options.Add(logLevel);
        command.Options.Add(json);
        command.Options.Add(host);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var level = parse.GetValue(logLevel);
            if (level is < 0 or > 2)
                throw new CliUsageException("--log-level must be 0, 1 or 2");
            var source = Load(path);
            var registry = ProgramTypeRegistry.CreateDefault();
            var typeName = parse.GetValue(type) ?? source.ProgramTypeName;
            if (!registry.TryGet(typeName, out _))
                throw new CliUsageException($"unknown program type '{typeName}' (known: {string.Join(", ", registry.Names)})");
            var mem = parse.GetValue(memSize) ?? source.MemSize;
            if (mem < 0)
                throw new CliUsageException("--mem-size must not be negative");
            source = source with { ProgramTypeName = typeName, MemSize = mem, Unprivileged = source.Unprivileged || parse.GetValue(unpriv) };
            var options = source.ToOptions(registry, level);
            var result = Verifier.Verify(source.Program, options);
            HostVerdict? hostVerdict = null;
            if (parse.GetValue(host))
                hostVerdict = HostBpf.Load(source.Program, options, level);

            if (parse.GetValue(json))
            {
                var doc = new Dictionary<string, object?>
                {
                    ["accepted"] = result.Accepted,
                    ["error"] = result.Error,
                    ["processed_insns"] = result.ProcessedInsns,
                    ["total_states"] = result.TotalStates,
                    ["peak_states"] = result.PeakStates,
                    ["max_states_per_insn"] = result.MaxStatesPerInsn,
                    ["log"] = result.Log,
                };
                if (hostVerdict is not null)
                {
                    doc["host"] = new Dictionary<string, object?>
                    {
                        ["available"] = hostVerdict.Available,
                        ["accepted"] = hostVerdict.Accepted,
                        ["errno"] = hostVerdict.Errno,
                        ["note"] = hostVerdict.Note,
                        ["log"] = hostVerdict.Log,
                    };
                }

                context.Out.WriteLine(JsonSerializer.Serialize(doc));
            }
            else
            {
                context.Out.Write(result.Log);
                if (hostVerdict is not null)
                    PrintHost(context.Out, result, hostVerdict);
            }

            return result.Accepted ? KernelSimCli.Success : KernelSimCli.Failure;
        });
        return command;
    }

    private static void PrintHost(TextWriter output, VerifierResult ours, HostVerdict host)
    {
        output.WriteLine();
        if (!host.Available)
        {
            output.WriteLine($"host kernel: not asked ({host.Note})");
            return;
        }

        output.WriteLine($"==== host kernel ({Environment.OSVersion.VersionString}): {(host.Accepted ? "accepted" : $"rejected (errno {host.Errno})")} ====");
        output.Write(host.Log);
        if (!host.Log.EndsWith('\n'))
            output.WriteLine();
        var agree = ours.Accepted == host.Accepted;
        output.WriteLine($"==== verdicts: kernelsim {(ours.Accepted ? "accepted" : "rejected")}, host {(host.Accepted ? "accepted" : "rejected")}: {(agree ? "agree" : "DISAGREE")} ====");
        if (host.Note is not null)
            output.WriteLine("note: " + host.Note);
    }

    /// <summary>Reads any program file the bpf verbs accept, keeping the verifier headers of LLVM text.</summary>
    internal static VerifierSource Load(string path)
    {
        if (!File.Exists(path))
            throw new CliUsageException($"{path}: no such file");
        var isText = !path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".data", StringComparison.OrdinalIgnoreCase);
        if (isText)
        {
            var text = File.ReadAllText(path);
            try
            {
                return VerifierSource.Parse(text, path);
            }
            catch (AsmException)
            {
                // Not LLVM syntax: let the shared loader try the conformance syntax and report its error.
            }
        }

        var input = BpfProgramFile.Load(path);
        return new VerifierSource(input.Program, "raw", input.Memory.Length, Array.Empty<MapDefinition>(), false, null, null);
    }
}
