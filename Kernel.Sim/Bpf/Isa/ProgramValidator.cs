using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Isa;

/// <summary>
/// Decode-level validation of a program, as Linux does it before any data-flow analysis: every slot must be
/// a known opcode with its reserved fields zero, valid register numbers and a legal size/mode combination,
/// and every lddw must have its well-formed second slot. Jump targets, reachability and types are the
/// verifier's business (and the interpreter checks targets at run time), so they are not checked here.
/// </summary>
public static class ProgramValidator
{
    /// <summary>The highest register number (R10, the read-only frame pointer).</summary>
    public const int MaxRegister = 10;

    /// <summary>Throws <see cref="BpfDecodeException"/> for the first malformed slot.</summary>
    public static void Validate(ReadOnlySpan<Instruction> program)
    {
        if (!TryValidate(program, out var index, out var reason))
            throw new BpfDecodeException(index, reason);
    }

    /// <summary>Finds the first malformed slot; returns false with its index and reason.</summary>
    public static bool TryValidate(ReadOnlySpan<Instruction> program, out int index, out string reason)
    {
        for (var i = 0; i < program.Length; i++)
        {
            var error = Check(program, i);
            if (error is not null)
            {
                index = i;
                reason = error;
                return false;
            }

            if (program[i].IsLdImm64)
                i++;
        }

        index = -1;
        reason = "";
        return true;
    }

    /// <summary>The reason slot <paramref name="i"/> is malformed, or null when it is a valid instruction.</summary>
    public static string? Check(ReadOnlySpan<Instruction> program, int i)
    {
        var insn = program[i];
        var fields = Class(insn.Opcode) switch
        {
            BPF_ALU or BPF_ALU64 => CheckAlu(insn),
            BPF_JMP or BPF_JMP32 => CheckJump(insn),
            BPF_LDX => CheckLdx(insn),
            BPF_ST => CheckSt(insn),
            BPF_STX => CheckStx(insn),
            _ => CheckLd(program, i),
        };
        if (fields is not null)
            return fields;
        return CheckRegisters(insn);
    }

    private static string Unknown(Instruction insn, string? why = null) =>
        why is null ? $"unknown opcode 0x{insn.Opcode:x2}" : $"unknown opcode 0x{insn.Opcode:x2} ({why})";

    private static string? CheckAlu(Instruction insn)
    {
        var op = Op(insn.Opcode);
        var isReg = Source(insn.Opcode) == BPF_X;
        var is64 = Class(insn.Opcode) == BPF_ALU64;
        switch (op)
        {
            case > BPF_END:
                return Unknown(insn);
            case BPF_NEG:
                if (isReg)
                    return Unknown(insn, "BPF_NEG with BPF_X");
                return insn.Src != 0 || insn.Offset != 0 || insn.Imm != 0
                    ? $"BPF_NEG uses reserved fields ({Reserved(insn)})"
                    : null;
            case BPF_END:
                if (is64 && isReg)
                    return Unknown(insn, "BPF_ALU64 | BPF_END | BPF_X");
                if (insn.Src != 0 || insn.Offset != 0)
                    return $"BPF_END uses reserved fields ({Reserved(insn)})";
                return insn.Imm is 16 or 32 or 64 ? null : $"BPF_END uses reserved fields (imm {insn.Imm}, must be 16, 32 or 64)";
            case BPF_MOV:
                if (!isReg)
                    return insn.Src != 0 || insn.Offset != 0 ? $"BPF_MOV uses reserved fields ({Reserved(insn)})" : null;
                if (insn.Imm != 0)
                    return $"BPF_MOV uses reserved fields (imm {insn.Imm} with BPF_X)";
                // movsx: ALU64 sign-extends from 8/16/32 bits, ALU (32-bit) from 8/16.
                var okOffset = insn.Offset is 0 or 8 or 16 || (is64 && insn.Offset == 32);
                return okOffset ? null : $"BPF_MOV uses reserved fields (off {insn.Offset}, movsx takes 0, 8, 16{(is64 ? " or 32" : "")})";
            default:
                // off 1 selects the signed forms sdiv/smod; every other op has off 0.
                if (insn.Offset != 0 && !(insn.Offset == 1 && op is BPF_DIV or BPF_MOD))
                    return $"BPF_ALU uses reserved fields (off {insn.Offset}{(op is BPF_DIV or BPF_MOD ? ", sdiv/smod take 1" : "")})";
                if (isReg && insn.Imm != 0)
                    return $"BPF_ALU uses reserved fields (imm {insn.Imm} with BPF_X)";
                if (!isReg && insn.Src != 0)
                    return $"BPF_ALU uses reserved fields (src_reg {insn.Src} with BPF_K)";
                return null;
        }
    }

    private static string? CheckJump(Instruction insn)
    {
        var op = Op(insn.Opcode);
        var isReg = Source(insn.Opcode) == BPF_X;
        var is32 = Class(insn.Opcode) == BPF_JMP32;
        switch (op)
        {
            case > BPF_JSLE:
                return Unknown(insn);
            case BPF_JA:
                if (isReg)
                    return Unknown(insn, "BPF_JA with BPF_X");
                if (insn.Src != 0 || insn.Dst != 0)
                    return $"BPF_JA uses reserved fields ({Reserved(insn)})";
                // JMP | JA jumps by off; JMP32 | JA (gotol) jumps by imm.
                if (is32 ? insn.Offset != 0 : insn.Imm != 0)
                    return $"BPF_JA uses reserved fields ({(is32 ? $"off {insn.Offset} with gotol" : $"imm {insn.Imm}")})";
                return null;
            case BPF_CALL:
                if (is32)
                    return Unknown(insn, "BPF_JMP32 | BPF_CALL");
                if (isReg)
                {
                    // callx: the target register is in dst (as bpf_conformance and LLVM encode it).
                    return insn.Src != 0 || insn.Offset != 0 || insn.Imm != 0
                        ? $"BPF_CALL uses reserved fields ({Reserved(insn)} with callx)"
                        : null;
                }

                if (insn.Src > BPF_PSEUDO_KFUNC_CALL)
                    return $"BPF_CALL uses reserved fields (src_reg {insn.Src}, must be 0, 1 or 2)";
                if (insn.Dst != 0)
                    return $"BPF_CALL uses reserved fields (dst_reg {insn.Dst})";
                // A kfunc call may carry a BTF fd index in off; helper and local calls may not.
                if (insn.Offset != 0 && insn.Src != BPF_PSEUDO_KFUNC_CALL)
                    return $"BPF_CALL uses reserved fields (off {insn.Offset})";
                return null;
            case BPF_EXIT:
                if (is32)
                    return Unknown(insn, "BPF_JMP32 | BPF_EXIT");
                if (isReg)
                    return Unknown(insn, "BPF_EXIT with BPF_X");
                return insn.Src != 0 || insn.Dst != 0 || insn.Offset != 0 || insn.Imm != 0
                    ? $"BPF_EXIT uses reserved fields ({Reserved(insn)})"
                    : null;
            default:
                if (isReg && insn.Imm != 0)
                    return $"BPF_JMP/JMP32 uses reserved fields (imm {insn.Imm} with BPF_X)";
                if (!isReg && insn.Src != 0)
                    return $"BPF_JMP/JMP32 uses reserved fields (src_reg {insn.Src} with BPF_K)";
                return null;
        }
    }

    private static string? CheckLdx(Instruction insn)
    {
        var mode = Mode(insn.Opcode);
        if (mode == BPF_MEMSX && Size(insn.Opcode) == BPF_DW)
            return Unknown(insn, "BPF_MEMSX with BPF_DW");
        if (mode is not (BPF_MEM or BPF_MEMSX))
            return Unknown(insn, $"BPF_LDX with mode 0x{mode:x2}");
        return insn.Imm != 0 ? $"BPF_LDX uses reserved fields (imm {insn.Imm})" : null;
    }

    private static string? CheckSt(Instruction insn)
    {
        if (Mode(insn.Opcode) != BPF_MEM)
            return Unknown(insn, $"BPF_ST with mode 0x{Mode(insn.Opcode):x2}");
        return insn.Src != 0 ? $"BPF_ST uses reserved fields (src_reg {insn.Src})" : null;
    }

    private static string? CheckStx(Instruction insn)
    {
        var mode = Mode(insn.Opcode);
        if (mode == BPF_MEM)
            return insn.Imm != 0 ? $"BPF_STX uses reserved fields (imm {insn.Imm})" : null;
        if (mode != BPF_ATOMIC)
            return Unknown(insn, $"BPF_STX with mode 0x{mode:x2}");
        if (Size(insn.Opcode) is not (BPF_W or BPF_DW))
            return $"invalid atomic operand size (BPF_{(Size(insn.Opcode) == BPF_B ? "B" : "H")})";
        return insn.Imm switch
        {
            BPF_ADD or BPF_AND or BPF_OR or BPF_XOR => null,
            BPF_ADD | BPF_FETCH or BPF_AND | BPF_FETCH or BPF_OR | BPF_FETCH or BPF_XOR | BPF_FETCH => null,
            BPF_XCHG or BPF_CMPXCHG => null,
            _ => $"BPF_ATOMIC uses invalid atomic opcode 0x{insn.Imm:x2}",
        };
    }

    private static string? CheckLd(ReadOnlySpan<Instruction> program, int i)
    {
        var insn = program[i];
        var mode = Mode(insn.Opcode);
        var size = Size(insn.Opcode);
        if (mode is BPF_ABS or BPF_IND)
        {
            if (size == BPF_DW)
                return Unknown(insn, $"BPF_{(mode == BPF_ABS ? "ABS" : "IND")} with BPF_DW");
            if (insn.Dst != 0 || insn.Offset != 0 || (mode == BPF_ABS && insn.Src != 0))
                return $"BPF_LD_[ABS|IND] uses reserved fields ({Reserved(insn)})";
            return null;
        }

        if (mode != BPF_IMM || size != BPF_DW)
            return Unknown(insn);
        if (insn.Offset != 0)
            return $"BPF_LD_IMM64 uses reserved fields (off {insn.Offset})";
        if (insn.Src > BPF_PSEUDO_MAP_IDX_VALUE)
            return $"unrecognized bpf_ld_imm64 insn (src_reg {insn.Src})";
        if (i + 1 >= program.Length)
            return "invalid bpf_ld_imm64 insn (second slot missing)";
        var next = program[i + 1];
        if (next.Opcode != 0 || next.Regs != 0 || next.Offset != 0)
            return $"invalid bpf_ld_imm64 insn (second slot has {(next.Opcode != 0 ? $"opcode 0x{next.Opcode:x2}" : Reserved(next))})";
        // A map by fd or by index is one 32-bit number: the upper half must be zero.
        if (insn.Src is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_IDX && next.Imm != 0)
            return $"unrecognized bpf_ld_imm64 insn (src_reg {insn.Src} with upper imm {next.Imm})";
        return null;
    }

    private static string? CheckRegisters(Instruction insn)
    {
        if (insn.Dst > MaxRegister)
            return $"R{insn.Dst} is invalid (dst_reg)";
        if (insn.Src > MaxRegister)
            return $"R{insn.Src} is invalid (src_reg)";
        return null;
    }

    private static string Reserved(Instruction insn)
    {
        var parts = new List<string>(4);
        if (insn.Dst != 0)
            parts.Add($"dst_reg {insn.Dst}");
        if (insn.Src != 0)
            parts.Add($"src_reg {insn.Src}");
        if (insn.Offset != 0)
            parts.Add($"off {insn.Offset}");
        if (insn.Imm != 0)
            parts.Add($"imm {insn.Imm}");
        return string.Join(", ", parts);
    }
}
