using System.Globalization;
using System.Text;
using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>
/// Prints a program in the bpf_conformance syntax, one instruction per line, ready for
/// <see cref="ConformanceAssembler"/>: for every valid instruction form, assembling the text gives the same
/// bytes. Jump and local-call targets are printed as explicit relative offsets (<c>+3</c>, <c>-2</c>) so the
/// round trip is exact even for targets outside the program.
/// </summary>
public static class ConformanceDisassembler
{
    /// <summary>Disassembles a program; throws <see cref="BpfDecodeException"/> for a malformed slot.</summary>
    public static string Disassemble(ReadOnlySpan<Instruction> program)
    {
        ProgramValidator.Validate(program);
        var text = new StringBuilder();
        for (var i = 0; i < program.Length; i++)
        {
            if (program[i].IsLdImm64)
            {
                text.Append(FormatLddw(program[i], program[i + 1])).Append('\n');
                i++;
                continue;
            }

            text.Append(Format(program[i])).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>One valid non-lddw instruction as text.</summary>
    public static string Format(Instruction insn)
    {
        var op = Op(insn.Opcode);
        var isReg = Source(insn.Opcode) == BPF_X;
        switch (Class(insn.Opcode))
        {
            case BPF_ALU or BPF_ALU64:
            {
                var suffix = Class(insn.Opcode) == BPF_ALU ? "32" : "";
                if (op == BPF_NEG)
                    return $"neg{suffix} {R(insn.Dst)}";
                if (op == BPF_END)
                {
                    var name = Class(insn.Opcode) == BPF_ALU64 ? "bswap" : isReg ? "be" : "le";
                    return $"{name}{insn.Imm} {R(insn.Dst)}";
                }

                if (op == BPF_MOV && isReg && insn.Offset != 0)
                    return $"movsx{insn.Offset}{(suffix.Length == 0 ? "64" : "32")} {R(insn.Dst)}, {R(insn.Src)}";
                var alu = ConformanceSyntax.AluOps.First(a => a.Op == op && a.Offset == insn.Offset).Name;
                return $"{alu}{suffix} {R(insn.Dst)}, {(isReg ? R(insn.Src) : Imm(insn.Imm))}";
            }

            case BPF_JMP or BPF_JMP32:
            {
                var suffix = Class(insn.Opcode) == BPF_JMP32 ? "32" : "";
                switch (op)
                {
                    case BPF_JA:
                        return suffix.Length == 0 ? $"ja {Rel(insn.Offset)}" : $"ja32 {Rel(insn.Imm)}";
                    case BPF_EXIT:
                        return "exit";
                    case BPF_CALL:
                        if (isReg)
                            return $"call {R(insn.Dst)}";
                        return insn.Src switch
                        {
                            BPF_PSEUDO_CALL => $"call local {Rel(insn.Imm)}",
                            BPF_PSEUDO_KFUNC_CALL when insn.Offset != 0 => $"call runtime {Imm(insn.Imm)} {insn.Offset}",
                            BPF_PSEUDO_KFUNC_CALL => $"call runtime {Imm(insn.Imm)}",
                            _ => $"call {Imm(insn.Imm)}",
                        };
                    default:
                        var name = ConformanceSyntax.JumpOps.First(j => j.Op == op).Name;
                        return $"{name}{suffix} {R(insn.Dst)}, {(isReg ? R(insn.Src) : Imm(insn.Imm))}, {Rel(insn.Offset)}";
                }
            }

            case BPF_LDX:
                return $"ldx{(Mode(insn.Opcode) == BPF_MEMSX ? "s" : "")}{ConformanceSyntax.SizeSuffix(Size(insn.Opcode))} {R(insn.Dst)}, {Mem(insn.Src, insn.Offset)}";
            case BPF_ST:
                return $"st{ConformanceSyntax.SizeSuffix(Size(insn.Opcode))} {Mem(insn.Dst, insn.Offset)}, {Imm(insn.Imm)}";
            case BPF_STX:
                if (Mode(insn.Opcode) == BPF_MEM)
                    return $"stx{ConformanceSyntax.SizeSuffix(Size(insn.Opcode))} {Mem(insn.Dst, insn.Offset)}, {R(insn.Src)}";
                var fetch = (insn.Imm & BPF_FETCH) != 0 && insn.Imm is not (BPF_XCHG or BPF_CMPXCHG);
                var atomic = ConformanceSyntax.AtomicOps.First(a => a.Imm == (fetch ? insn.Imm & ~BPF_FETCH : insn.Imm)).Name;
                var width = Size(insn.Opcode) == BPF_W ? "32" : "";
                return $"lock {(fetch ? "fetch " : "")}{atomic}{width} {Mem(insn.Dst, insn.Offset)}, {R(insn.Src)}";
            default:
                var size = ConformanceSyntax.SizeSuffix(Size(insn.Opcode));
                return Mode(insn.Opcode) == BPF_ABS
                    ? $"ldabs{size} {Imm(insn.Imm)}"
                    : $"ldind{size} {R(insn.Src)}, {Imm(insn.Imm)}";
        }
    }

    /// <summary>Both slots of an lddw as one line.</summary>
    public static string FormatLddw(Instruction first, Instruction second)
    {
        var value = (uint)first.Imm | ((ulong)(uint)second.Imm << 32);
        var kind = first.Src == 0 ? "" : ConformanceSyntax.LddwKinds[first.Src] + " ";
        return $"lddw {R(first.Dst)}, {kind}0x{value.ToString("x", CultureInfo.InvariantCulture)}";
    }

    private static string R(byte reg) => "%r" + reg.ToString(CultureInfo.InvariantCulture);

    private static string Imm(int imm) => imm.ToString(CultureInfo.InvariantCulture);

    private static string Rel(int delta) => (delta >= 0 ? "+" : "") + delta.ToString(CultureInfo.InvariantCulture);

    private static string Mem(byte reg, short offset) => offset switch
    {
        0 => $"[{R(reg)}]",
        > 0 => $"[{R(reg)}+{offset.ToString(CultureInfo.InvariantCulture)}]",
        _ => $"[{R(reg)}{offset.ToString(CultureInfo.InvariantCulture)}]",
    };
}
