using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>
/// Assembles the LLVM/kernel BPF syntax (what <c>llvm-objdump -d</c> prints and <c>llvm-mc -triple bpfel</c> reads):
/// one statement per line, labels <c>name:</c>, comments after <c>#</c>, <c>;</c> or <c>//</c>, jump targets as labels or
/// signed slot offsets (<c>+2</c>, <c>-1</c>, <c>pc+2</c>). It also reads the extensions <see cref="LlvmDisassembler"/>
/// prints for forms LLVM 14 lacks, the <c>N:</c> address column and <c>.quad</c> raw slots, so every disassembly
/// re-assembles to the same bytes. Errors are <see cref="AsmException"/>s naming file, line and column.
/// </summary>
public static class LlvmAssembler
{
    /// <summary>Directives clang's <c>-S</c> output carries that say nothing about instruction bytes.</summary>
    private static readonly HashSet<string> IgnoredDirectives =
    [
        ".text", ".section", ".globl", ".global", ".p2align", ".align", ".type", ".size", ".file", ".addrsig",
        ".addrsig_sym", ".ident", ".local", ".weak", ".hidden",
    ];

    /// <summary>Assembles <paramref name="text"/>; <paramref name="file"/> names the source in error messages.</summary>
    public static Instruction[] Assemble(string text, string file = "<input>")
    {
        ArgumentNullException.ThrowIfNull(text);
        var program = new List<Instruction>();
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        var fixups = new List<Fixup>();
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var lineNumber = n + 1;
            var line = lines[n].TrimEnd('\r');
            if (IsIgnoredDirective(line))
                continue;
            var tokens = LlvmLexer.Tokenize(line, file, lineNumber);
            var parser = new LlvmLineParser(tokens, file, lineNumber, line.Length);
            parser.SkipLabels(labels, program.Count);
            if (!parser.AtEnd)
                parser.ParseStatement(program, fixups);
        }

        foreach (var fixup in fixups)
            fixup.Apply(program, labels, file);
        return [.. program];
    }

    // Layout directives may carry quoted operands the lexer does not read, so they are skipped whole.
    private static bool IsIgnoredDirective(string line)
    {
        var trimmed = line.AsSpan().TrimStart();
        if (trimmed.IsEmpty || trimmed[0] != '.')
            return false;
        var end = trimmed.IndexOfAny(" \t");
        return IgnoredDirectives.Contains((end < 0 ? trimmed : trimmed[..end]).ToString());
    }

    /// <summary>The kinds of label reference resolved after the whole text is read.</summary>
    internal enum FixupKind
    {
        /// <summary>A 16-bit jump offset in <see cref="Instruction.Offset"/>.</summary>
        Jump16,

        /// <summary>A 32-bit jump offset in <see cref="Instruction.Imm"/> (gotol).</summary>
        Jump32,

        /// <summary>A local call: src_reg 1, pc-relative slot offset in imm.</summary>
        Call,
    }

    /// <summary>A label use waiting for the label's slot index.</summary>
    internal readonly record struct Fixup(int Index, string Label, int Line, int Column, FixupKind Kind)
    {
        public void Apply(List<Instruction> program, Dictionary<string, int> labels, string file)
        {
            if (!labels.TryGetValue(Label, out var target))
                throw new AsmException(file, Line, Column, $"undefined label '{Label}'");
            var delta = (long)target - (Index + 1);
            var insn = program[Index];
            if (Kind == FixupKind.Jump16)
            {
                if (delta is < short.MinValue or > short.MaxValue)
                    throw new AsmException(file, Line, Column, $"jump to '{Label}' out of range ({delta} slots does not fit in 16 bits)");
                program[Index] = new Instruction(insn.Opcode, insn.Dst, insn.Src, (short)delta, insn.Imm);
            }
            else
            {
                program[Index] = new Instruction(insn.Opcode, insn.Dst, insn.Src, insn.Offset, (int)delta);
            }
        }
    }
}
