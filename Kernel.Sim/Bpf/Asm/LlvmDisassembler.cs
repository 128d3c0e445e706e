using System.Text;
using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>
/// Prints instructions in the LLVM/kernel BPF syntax that <c>llvm-objdump -d</c> shows and <c>llvm-mc -triple bpfel</c>
/// assembles (<c>r0 = *(u32 *)(r1 + 4)</c>, <c>if w1 s&lt; w2 goto +2</c>, <c>lock *(u64 *)(r10 - 8) += r1</c>).
/// Forms LLVM 14 has no syntax for use the spelling later LLVM releases and binutils adopted (<c>r1 s/= r2</c>,
/// <c>r1 = (s8)r2</c>, <c>r1 = bswap16 r1</c>, <c>gotol +N</c>, <c>*(u32 *)(r1 + 0) = 5</c>) or a documented
/// extension (<c>call pc+N</c>, <c>call kfunc N</c>, <c>ld_pseudo</c> with a 64-bit immediate); an encoding that is not
/// a valid instruction is printed as <c>.quad 0x…</c>, which both assemblers turn back into the same 8 bytes.
/// Output always re-assembles with <see cref="LlvmAssembler"/> to the same bytes.
/// </summary>
public static class LlvmDisassembler
{
    /// <summary>
    /// The text of the instruction at <paramref name="index"/> (an lddw reads its second slot from
    /// <paramref name="index"/> + 1; a truncated or malformed lddw prints as <c>.quad</c>).
    /// </summary>
    public static string FormatInstruction(ReadOnlySpan<Instruction> program, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, program.Length);
        return Format(program, index, out _);
    }

    /// <summary>
    /// The whole program, one instruction per line (an lddw is one line for two slots). With
    /// <paramref name="addresses"/> each line starts with the slot index and a colon, as llvm-objdump prints it;
    /// <see cref="LlvmAssembler"/> skips that column, so the output re-assembles either way.
    /// </summary>
    public static string Disassemble(ReadOnlySpan<Instruction> program, bool addresses = false)
    {
        var text = new StringBuilder();
        for (var i = 0; i < program.Length;)
        {
            var line = Format(program, i, out var slots);
            if (addresses)
                text.Append($"{i,8}:\t");
            text.Append(line).Append('\n');
            i += slots;
        }

        return text.ToString();
    }

    /// <summary>The raw-slot fallback for encodings no instruction syntax describes.</summary>
    internal static string Quad(Instruction insn) => $".quad 0x{insn.ToUInt64():x16}";

    private static string Format(ReadOnlySpan<Instruction> program, int index, out int slots)
    {
        slots = 1;
        var insn = program[index];

        // The decoder's notion of a valid instruction decides what gets instruction syntax, so the disassembler never
        // prints as an instruction what the loaders would reject.
        if (ProgramValidator.Check(program, index) is not null)
            return Quad(insn);
        if (insn.Opcode == LdImm64)
        {
            var next = program[index + 1];
            slots = 2;
            var value = ((ulong)(uint)next.Imm << 32) | (uint)insn.Imm;
            return insn.Src == 0
                ? $"r{insn.Dst} = {LddwValue(value)} ll"
                : $"ld_pseudo r{insn.Dst}, {insn.Src}, {LddwValue(value)}";
        }

        return FormatSingle(insn) ?? Quad(insn);
    }

    /// <summary>Small values in decimal as llvm-objdump prints them; large ones in hex, which reads better.</summary>
    private static string LddwValue(ulong value)
    {
        var signed = (long)value;
        return signed is >= int.MinValue and <= int.MaxValue ? signed.ToString() : $"0x{value:x}";
    }

    private static string? FormatSingle(Instruction insn)
    {
        if (insn.Dst > 10 || insn.Src > 10)
            return null;
        return insn.Class switch
        {
            BPF_ALU or BPF_ALU64 => FormatAlu(insn),
            BPF_JMP or BPF_JMP32 => FormatJump(insn),
            BPF_LDX => FormatLoad(insn),
            BPF_ST => FormatStoreImm(insn),
            BPF_STX => FormatStore(insn),
            _ => FormatLegacyLoad(insn),
        };
    }

    private static string? FormatAlu(Instruction insn)
    {
        var alu64 = insn.Class == BPF_ALU64;
        var p = alu64 ? 'r' : 'w';
        var op = Op(insn.Opcode);
        var isReg = Source(insn.Opcode) == BPF_X;
        var d = insn.Dst;
        if (op == BPF_NEG)
            return !isReg && insn.Src == 0 && insn.Offset == 0 && insn.Imm == 0 ? $"{p}{d} = -{p}{d}" : null;
        if (op == BPF_END)
        {
            if (insn.Src != 0 || insn.Offset != 0 || insn.Imm is not (16 or 32 or 64))
                return null;
            if (alu64)
                return isReg ? null : $"r{d} = bswap{insn.Imm} r{d}";
            return $"r{d} = {(isReg ? "be" : "le")}{insn.Imm} r{d}";
        }

        var text = LlvmSyntax.AluOperators[op >> 4];
        if (text is null)
            return null;
        if (insn.Offset != 0)
        {
            if (op is BPF_DIV or BPF_MOD && insn.Offset == 1)
                text = "s" + text;
            else if (op == BPF_MOV && isReg && insn.Imm == 0 && (insn.Offset is 8 or 16 || (alu64 && insn.Offset == 32)))
                return $"{p}{d} = (s{insn.Offset}){p}{insn.Src}";
            else
                return null;
        }

        if (isReg)
            return insn.Imm == 0 ? $"{p}{d} {text} {p}{insn.Src}" : null;
        return insn.Src == 0 ? $"{p}{d} {text} {insn.Imm}" : null;
    }

    private static string? FormatJump(Instruction insn)
    {
        var jmp32 = insn.Class == BPF_JMP32;
        var op = Op(insn.Opcode);
        var isReg = Source(insn.Opcode) == BPF_X;
        switch (op)
        {
            case BPF_JA:
                if (isReg || insn.Regs != 0)
                    return null;
                if (jmp32)
                    return insn.Offset == 0 ? $"gotol {LlvmSyntax.Relative(insn.Imm)}" : null;
                return insn.Imm == 0 ? $"goto {LlvmSyntax.Relative(insn.Offset)}" : null;
            case BPF_CALL:
                if (jmp32 || (insn.Offset != 0 && insn.Src != BPF_PSEUDO_KFUNC_CALL))
                    return null;
                if (isReg)
                    return insn.Src == 0 && insn.Imm == 0 ? $"callx r{insn.Dst}" : null;
                if (insn.Dst != 0)
                    return null;
                return insn.Src switch
                {
                    0 => $"call {insn.Imm}",
                    BPF_PSEUDO_CALL => $"call pc{LlvmSyntax.Relative(insn.Imm)}",
                    BPF_PSEUDO_KFUNC_CALL when insn.Offset == 0 => $"call kfunc {insn.Imm}",
                    BPF_PSEUDO_KFUNC_CALL => $"call kfunc {insn.Imm}, {insn.Offset}",
                    _ => null,
                };
            case BPF_EXIT:
                return !jmp32 && !isReg && insn.Regs == 0 && insn.Offset == 0 && insn.Imm == 0 ? "exit" : null;
        }

        var text = LlvmSyntax.JumpOperators[op >> 4];
        if (text is null)
            return null;
        var p = jmp32 ? 'w' : 'r';
        var target = LlvmSyntax.Relative(insn.Offset);
        if (isReg)
            return insn.Imm == 0 ? $"if {p}{insn.Dst} {text} {p}{insn.Src} goto {target}" : null;
        return insn.Src == 0 ? $"if {p}{insn.Dst} {text} {insn.Imm} goto {target}" : null;
    }

    private static string? FormatLoad(Instruction insn)
    {
        if (insn.Imm != 0)
            return null;
        var size = Size(insn.Opcode);
        var type = Mode(insn.Opcode) switch
        {
            BPF_MEM => LlvmSyntax.UnsignedType(size),
            BPF_MEMSX when size != BPF_DW => LlvmSyntax.SignedType(size),
            _ => null,
        };
        return type is null ? null : $"r{insn.Dst} = *({type} *)(r{insn.Src} {LlvmSyntax.Offset(insn.Offset)})";
    }

    private static string? FormatStoreImm(Instruction insn)
    {
        if (Mode(insn.Opcode) != BPF_MEM || insn.Src != 0)
            return null;
        return $"*({LlvmSyntax.UnsignedType(Size(insn.Opcode))} *)(r{insn.Dst} {LlvmSyntax.Offset(insn.Offset)}) = {insn.Imm}";
    }

    private static string? FormatStore(Instruction insn)
    {
        var size = Size(insn.Opcode);
        var type = LlvmSyntax.UnsignedType(size);
        var address = $"r{insn.Dst} {LlvmSyntax.Offset(insn.Offset)}";
        if (Mode(insn.Opcode) == BPF_MEM)
            return insn.Imm == 0 ? $"*({type} *)({address}) = r{insn.Src}" : null;
        if (Mode(insn.Opcode) != BPF_ATOMIC || size is not (BPF_W or BPF_DW))
            return null;

        var p = size == BPF_W ? 'w' : 'r';
        var s = insn.Src;
        switch (insn.Imm)
        {
            case BPF_XCHG:
                return size == BPF_W ? $"w{s} = xchg32_32({address}, w{s})" : $"r{s} = xchg_64({address}, r{s})";
            case BPF_CMPXCHG:
                return size == BPF_W ? $"w0 = cmpxchg32_32({address}, w0, w{s})" : $"r0 = cmpxchg_64({address}, r0, r{s})";
        }

        foreach (var (op, name, assign) in LlvmSyntax.AtomicOperations)
        {
            if (insn.Imm == op)
                return $"lock *({type} *)({address}) {assign} {p}{s}";
            if (insn.Imm == (op | BPF_FETCH))
                return $"{p}{s} = atomic_fetch_{name}(({type} *)({address}), {p}{s})";
        }

        return null;
    }

    private static string? FormatLegacyLoad(Instruction insn)
    {
        // Only LD_ABS / LD_IND remain in class LD (lddw was handled by the caller); the kernel rejects the DW size.
        var size = Size(insn.Opcode);
        if (size == BPF_DW || insn.Dst != 0 || insn.Offset != 0)
            return null;
        var type = LlvmSyntax.UnsignedType(size);
        return Mode(insn.Opcode) switch
        {
            BPF_ABS when insn.Src == 0 => $"r0 = *({type} *)skb[{insn.Imm}]",
            BPF_IND when insn.Imm == 0 => $"r0 = *({type} *)skb[r{insn.Src}]",
            BPF_IND => $"r0 = *({type} *)skb[r{insn.Src} {(insn.Imm < 0 ? "-" : "+")} {Math.Abs((long)insn.Imm)}]",
            _ => null,
        };
    }
}
