using System.CommandLine;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>The <c>--syntax conformance|llvm</c> option shared by <c>bpf asm</c> and <c>bpf disasm</c>.</summary>
internal static class BpfSyntaxOption
{
    public const string Llvm = "llvm";
    public const string Conformance = "conformance";

    public static Option<string?> Create(string description) =>
        new("--syntax") { Description = description };

    /// <summary>Checks a given syntax name; null stays null (the verb picks its default or detects).</summary>
    public static string? Check(string? syntax) =>
        syntax is null or Llvm or Conformance
            ? syntax
            : throw new CliUsageException($"unknown syntax '{syntax}' (use {Conformance} or {Llvm})");

    /// <summary>Assembles text in the named syntax, or in whichever syntax reads it when none is named.</summary>
    public static Instruction[] Assemble(string text, string path, string? syntax)
    {
        try
        {
            return syntax switch
            {
                Llvm => LlvmAssembler.Assemble(text, path),
                Conformance => ConformanceAssembler.Assemble(text, path),
                _ => BpfProgramFile.AssembleEitherSyntax(text, path),
            };
        }
        catch (AsmException e)
        {
            throw new CliUsageException(e.Message);
        }
    }
}
