using System.CommandLine;
using System.Globalization;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// <c>kernelsim bpf conformance DIR [--engine interp|jit] [--verify]</c>: runs every <c>.data</c> file of DIR and prints
/// <c>PASS name</c> / <c>FAIL name: why</c>, then <c>N passed, N failed</c>. A file with <c>-- error</c> passes
/// when the run fails with exactly that message, as the upstream runner decides. Programs run unverified by default,
/// as the upstream runner runs them: they are instruction-set tests, and 13 of them (over-wide constant shifts,
/// callx) break Linux's verifier rules on purpose. <c>--verify</c> puts the verifier in front of both engines.
/// </summary>
public sealed class BpfConformanceVerb : IVerb
{
    public string Parent => "bpf";

    public Command Build(CliContext context)
    {
        var dir = new Argument<string>("DIR") { Description = "a directory of bpf_conformance .data files" };
        var engine = new Option<string>("--engine") { Description = "execution engine: interp or jit", DefaultValueFactory = _ => BpfEngine.Interpreter };
        var verify = new Option<bool>("--verify") { Description = "verify every program first (type raw over its memory size) and count a rejected one as failed; by default programs run unverified, as the upstream runner runs them (the jit then runs a program whose checked-interpreter run is memory-safe)" };
        var command = new Command("conformance", "Run a bpf_conformance test directory");
        command.Arguments.Add(dir);
        command.Options.Add(engine);
        command.Options.Add(verify);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(dir)!;
            if (!Directory.Exists(path))
                throw new CliUsageException($"{path}: no such directory");
            var engineName = parse.GetValue(engine)!;
            BpfEngine.CheckName(engineName);
            int passed = 0, failed = 0;
            foreach (var file in Directory.EnumerateFiles(path, "*.data").Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                var why = RunOne(file, engineName, parse.GetValue(verify));
                if (why is null)
                {
                    passed++;
                    context.Out.WriteLine($"PASS {name}");
                }
                else
                {
                    failed++;
                    context.Out.WriteLine($"FAIL {name}: {why}");
                }
            }

            context.Out.WriteLine($"{passed} passed, {failed} failed");
            return failed == 0 ? KernelSimCli.Success : KernelSimCli.Failure;
        });
        return command;
    }

    /// <summary>Null when the test passes, else why it failed.</summary>
    private static string? RunOne(string file, string engine, bool verify)
    {
        ConformanceDataFile test;
        try
        {
            test = ConformanceDataFile.Load(file);
        }
        catch (AsmException e)
        {
            return e.Message;
        }

        string? error;
        ulong r0 = 0;
        try
        {
            var result = BpfEngine.Run(engine, test.Program, [.. test.Memory], verify);
            error = result.Succeeded ? null : result.Message;
            r0 = result.R0;
        }
        catch (Exception e) when (e is BpfDecodeException or BpfRejectedException or Kernel.Sim.Bpf.Jit.BpfJitException)
        {
            error = e.Message;
        }

        if (test.ExpectedError is { } expected)
        {
            if (error is null)
                return $"expected error '{expected}' but the program returned 0x{r0.ToString("x", CultureInfo.InvariantCulture)}";
            return error.TrimEnd() == expected ? null : $"error '{error}' but expected '{expected}'";
        }

        if (error is not null)
            return error;
        if (test.ExpectedResult is not { } want)
            return "the file has neither '-- result' nor '-- error'";
        return r0 == want ? null : $"r0 = 0x{r0.ToString("x", CultureInfo.InvariantCulture)}, expected 0x{want.ToString("x", CultureInfo.InvariantCulture)}";
    }
}
