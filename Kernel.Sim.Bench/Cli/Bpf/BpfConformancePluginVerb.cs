using System.CommandLine;
using System.Globalization;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// <c>kernelsim bpf conformance-plugin [MEMHEX] [--jit|--interpret]</c>: the plugin protocol of the upstream
/// bpf_conformance runner. The program arrives on stdin as one line of space-separated hex bytes, the input
/// memory (if any) as the first argument in the same form; r0 is printed in hex without prefix and the exit
/// code is 0. On failure the error goes to stderr (nothing to stdout) and the exit code is 1.
/// </summary>
public sealed class BpfConformancePluginVerb : IVerb
{
    /// <summary>Where the program line is read from; null means <see cref="Console.In"/> (tests set this).</summary>
    [ThreadStatic]
    private static TextReader? s_input;

    public string Parent => "bpf";

    /// <summary>Reads the program from <paramref name="input"/> instead of the console on this thread (for in-process tests).</summary>
    internal static IDisposable RedirectInput(TextReader input)
    {
        s_input = input;
        return new Restore();
    }

    public Command Build(CliContext context)
    {
        var mem = new Argument<string?>("MEMHEX") { Description = "input memory as hex bytes", Arity = ArgumentArity.ZeroOrOne };
        var jit = new Option<bool>("--jit") { Description = "run on the JIT (unverified, as the upstream runner runs programs: the JIT takes a program whose checked-interpreter run of this input is memory-safe)" };
        var interpret = new Option<bool>("--interpret") { Description = "run on the interpreter (the default)" };
        var elf = new Option<bool>("--elf") { Description = "program on stdin is an ELF file (not supported)" };
        var command = new Command("conformance-plugin", "bpf_conformance plugin: program bytes on stdin, r0 in hex on stdout");
        command.Arguments.Add(mem);
        command.Options.Add(jit);
        command.Options.Add(interpret);
        command.Options.Add(elf);
        command.SetAction(parse =>
        {
            try
            {
                if (parse.GetValue(elf))
                    throw new CliUsageException("--elf input is not supported; pass raw instruction bytes");
                var line = (s_input ?? Console.In).ReadLine() ?? "";
                var bytes = BpfProgramFile.ParseHexWords(line, "program");
                if (bytes.Length == 0 || bytes.Length % Instruction.Size != 0)
                    throw new CliUsageException($"program: {bytes.Length} bytes is not a whole, non-zero number of 8-byte instructions");
                var memHex = parse.GetValue(mem);
                var memory = memHex is null ? [] : BpfProgramFile.ParseHexWords(memHex, "memory");
                var engine = parse.GetValue(jit) && !parse.GetValue(interpret) ? BpfEngine.Jit : BpfEngine.Interpreter;
                var result = BpfEngine.Run(engine, Instruction.ReadAll(bytes), memory, verify: false);
                if (!result.Succeeded)
                {
                    context.Error.WriteLine(result.Message);
                    return KernelSimCli.Failure;
                }

                context.Out.WriteLine(result.R0.ToString("x", CultureInfo.InvariantCulture));
                return KernelSimCli.Success;
            }
            catch (Exception e) when (e is CliUsageException or BpfDecodeException or BpfRejectedException or Kernel.Sim.Bpf.Jit.BpfJitException)
            {
                // The runner treats any non-zero exit as the program's failure and compares stderr.
                context.Error.WriteLine(e.Message);
                return KernelSimCli.Failure;
            }
        });
        return command;
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose() => s_input = null;
    }
}
