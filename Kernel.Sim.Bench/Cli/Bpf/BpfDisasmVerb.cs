using System.CommandLine;
using System.Text;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// <c>kernelsim bpf disasm FILE [--syntax conformance|llvm] [--addresses]</c>: prints a program as assembler-ready text
/// (LLVM syntax by default). FILE is raw little-endian bytes (<c>.bin</c>, or any file holding NUL bytes), a conformance
/// <c>.data</c> file, or assembly text in either syntax (so text converts between the syntaxes).
/// </summary>
public sealed class BpfDisasmVerb : IVerb
{
    public string Parent => "bpf";

    public Command Build(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "raw bytes (.bin), a conformance .data file, or assembly text" };
        var syntax = BpfSyntaxOption.Create("the output syntax: llvm (default) or conformance");
        var addresses = new Option<bool>("--addresses") { Description = "prefix each line with its slot index, as llvm-objdump does" };
        var command = new Command("disasm", "Disassemble an eBPF program into LLVM or conformance syntax");
        command.Arguments.Add(file);
        command.Options.Add(syntax);
        command.Options.Add(addresses);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var chosen = BpfSyntaxOption.Check(parse.GetValue(syntax)) ?? BpfSyntaxOption.Llvm;
            var program = Load(path);
            if (chosen == BpfSyntaxOption.Llvm)
            {
                context.Out.Write(LlvmDisassembler.Disassemble(program, parse.GetValue(addresses)));
                return KernelSimCli.Success;
            }

            string text;
            try
            {
                text = ConformanceDisassembler.Disassemble(program);
            }
            catch (BpfDecodeException e)
            {
                // The conformance syntax has no raw-slot escape; the LLVM syntax prints such slots as .quad.
                context.Error.WriteLine($"kernelsim: {path}: {e.Message} (the llvm syntax prints malformed slots as .quad)");
                return KernelSimCli.BadInput;
            }

            context.Out.Write(parse.GetValue(addresses) ? WithAddresses(text, program) : text);
            return KernelSimCli.Success;
        });
        return command;
    }

    private static Instruction[] Load(string path)
    {
        if (!File.Exists(path))
            throw new CliUsageException($"{path}: no such file");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }

        // Raw programs almost always hold a NUL byte (every exit does); assembly text never does.
        if (path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) || Array.IndexOf(bytes, (byte)0) >= 0)
        {
            if (bytes.Length % Instruction.Size != 0)
                throw new CliUsageException($"{path}: {bytes.Length} bytes is not a whole number of 8-byte instructions");
            return Instruction.ReadAll(bytes);
        }

        return BpfProgramFile.Load(path).Program;
    }

    // One conformance line per instruction, an lddw counting two slots (the disassembler has validated the program).
    private static string WithAddresses(string text, Instruction[] program)
    {
        var result = new StringBuilder();
        var slot = 0;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            result.Append($"{slot,8}:\t").Append(line).Append('\n');
            slot += program[slot].IsLdImm64 ? 2 : 1;
        }

        return result.ToString();
    }
}
