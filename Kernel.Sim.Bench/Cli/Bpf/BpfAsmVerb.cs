using System.CommandLine;
using System.Text;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// <c>kernelsim bpf asm FILE [-o OUT] [--syntax conformance|llvm]</c>: assembly text to raw little-endian instruction
/// bytes, written to OUT, or printed as hex (one 8-byte slot per line) without <c>-o</c>.
/// </summary>
public sealed class BpfAsmVerb : IVerb
{
    public string Parent => "bpf";

    public Command Build(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "assembly text (conformance or LLVM syntax)" };
        var output = new Option<string?>("--out", "-o") { Description = "write the raw bytes here instead of hex on stdout" };
        var syntax = BpfSyntaxOption.Create("the syntax of FILE: conformance or llvm (default: whichever reads it)");
        var command = new Command("asm", "Assemble eBPF text into raw little-endian bytes");
        command.Arguments.Add(file);
        command.Options.Add(output);
        command.Options.Add(syntax);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var chosen = BpfSyntaxOption.Check(parse.GetValue(syntax));
            if (!File.Exists(path))
                throw new CliUsageException($"{path}: no such file");
            var program = BpfSyntaxOption.Assemble(File.ReadAllText(path), path, chosen);
            var bytes = Instruction.WriteAll(program);
            var outPath = parse.GetValue(output);
            if (outPath is not null)
            {
                try
                {
                    File.WriteAllBytes(outPath, bytes);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new CliUsageException($"{outPath}: {e.Message}");
                }

                return KernelSimCli.Success;
            }

            var text = new StringBuilder();
            for (var i = 0; i < bytes.Length; i += Instruction.Size)
                text.AppendJoin(' ', bytes.Skip(i).Take(Instruction.Size).Select(b => b.ToString("x2"))).Append('\n');
            context.Out.Write(text.ToString());
            return KernelSimCli.Success;
        });
        return command;
    }
}
