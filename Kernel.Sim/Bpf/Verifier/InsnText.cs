using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>
/// An instruction as the verifier log prints it (kernel/bpf/disasm.c's print_bpf_insn):
/// <c>(7b) *(u64 *)(r10 -8) = r1</c>. The one place the verifier turns instructions into text.
/// </summary>
internal static class InsnText
{
    private static readonly string[] AluOps =
        ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", "", ""];

    private static readonly string[] JmpOps =
        ["jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", "", ""];

    public static string AluOpString(byte op) => AluOps[op >> 4];

    public static string SizeName(byte size) => size switch { BPF_B => "u8", BPF_H => "u16", BPF_W => "u32", _ => "u64" };

    private static string SignedSizeName(byte size) => size switch { BPF_B => "s8", BPF_H => "s16", BPF_W => "s32", _ => "s64" };

    public static string Format(Instruction[] insns, int idx)
    {
        var i = insns[idx];
        var code = i.Opcode;
        var cls = Class(code);
        var prefix = $"({code:x2}) ";
        switch (cls)
        {
            case BPF_ALU:
            case BPF_ALU64:
                return prefix + FormatAlu(i, cls == BPF_ALU64);
            case BPF_LDX:
                return Mode(code) == BPF_MEMSX
                    ? prefix + $"r{i.Dst} = *({SignedSizeName(Size(code))} *)(r{i.Src} {i.Offset:+0;-0})"
                    : prefix + $"r{i.Dst} = *({SizeName(Size(code))} *)(r{i.Src} {i.Offset:+0;-0})";
            case BPF_ST:
                return prefix + $"*({SizeName(Size(code))} *)(r{i.Dst} {i.Offset:+0;-0}) = {i.Imm}";
            case BPF_STX:
                return Mode(code) == BPF_ATOMIC ? prefix + FormatAtomic(i) : prefix + $"*({SizeName(Size(code))} *)(r{i.Dst} {i.Offset:+0;-0}) = r{i.Src}";
            case BPF_LD:
                if (code == LdImm64)
                {
                    var hi = idx + 1 < insns.Length ? (uint)insns[idx + 1].Imm : 0u;
                    var value = ((ulong)hi << 32) | (uint)i.Imm;
                    return i.Src switch
                    {
                        BPF_PSEUDO_MAP_FD => prefix + $"r{i.Dst} = map[fd:{i.Imm}]",
                        BPF_PSEUDO_MAP_IDX => prefix + $"r{i.Dst} = map[idx:{i.Imm}]",
                        BPF_PSEUDO_MAP_VALUE => prefix + $"r{i.Dst} = map[fd:{i.Imm}]+{hi}",
                        BPF_PSEUDO_MAP_IDX_VALUE => prefix + $"r{i.Dst} = map[idx:{i.Imm}]+{hi}",
                        _ => prefix + $"r{i.Dst} = 0x{value:x}",
                    };
                }

                if (Mode(code) == BPF_ABS)
                    return prefix + $"r0 = *({SizeName(Size(code))} *)skb[{i.Imm}]";
                if (Mode(code) == BPF_IND)
                    return prefix + $"r0 = *({SizeName(Size(code))} *)skb[r{i.Src} + {i.Imm}]";
                return prefix + $"BUG_ld_{code:x2}";
            case BPF_JMP:
            case BPF_JMP32:
                return prefix + FormatJump(i, cls == BPF_JMP32);
            default:
                return prefix + $"BUG_{code:x2}";
        }
    }

    private static string FormatAlu(Instruction i, bool is64)
    {
        var r = is64 ? 'r' : 'w';
        var op = Op(i.Opcode);
        var x = Source(i.Opcode) == BPF_X;
        if (op == BPF_END)
        {
            if (is64)
                return $"r{i.Dst} = bswap{i.Imm} r{i.Dst}";
            return $"r{i.Dst} = {(x ? "be" : "le")}{i.Imm} r{i.Dst}";
        }

        if (op == BPF_NEG)
            return $"{r}{i.Dst} = -{r}{i.Dst}";
        if (op == BPF_MOV && x && i.Offset != 0)
            return $"{r}{i.Dst} = (s{i.Offset}){r}{i.Src}";
        var opText = AluOps[op >> 4];
        if ((op == BPF_DIV || op == BPF_MOD) && i.Offset == 1)
            opText = "s" + opText;
        return x ? $"{r}{i.Dst} {opText} {r}{i.Src}" : $"{r}{i.Dst} {opText} {i.Imm}";
    }

    private static string FormatAtomic(Instruction i)
    {
        var is64 = Size(i.Opcode) == BPF_DW;
        var w = is64 ? "64" : string.Empty;
        var r = is64 ? 'r' : 'w';
        var mem = $"({SizeName(Size(i.Opcode))} *)(r{i.Dst} {i.Offset:+0;-0})";
        var imm = i.Imm;
        if (imm == BPF_XCHG)
            return $"{r}{i.Src} = atomic{w}_xchg({mem}, {r}{i.Src})";
        if (imm == BPF_CMPXCHG)
            return $"r0 = atomic{w}_cmpxchg({mem}, {r}0, {r}{i.Src})";
        var op = (byte)(imm & 0xf0);
        var name = op switch { BPF_ADD => "add", BPF_AND => "and", BPF_OR => "or", BPF_XOR => "xor", _ => "?" };
        if ((imm & BPF_FETCH) != 0)
            return $"{r}{i.Src} = atomic{w}_fetch_{name}({mem}, {r}{i.Src})";
        return $"lock *{mem} {AluOps[op >> 4]} {r}{i.Src}";
    }

    private static string FormatJump(Instruction i, bool is32)
    {
        var op = Op(i.Opcode);
        switch (op)
        {
            case BPF_JA:
                return is32 ? $"gotol pc{i.Imm:+0;-0}" : $"goto pc{i.Offset:+0;-0}";
            case BPF_EXIT:
                return "exit";
            case BPF_CALL:
                if (i.Src == BPF_PSEUDO_CALL)
                    return $"call pc{i.Imm:+0;-0}";
                return $"call {HelperPrototypes.LogName(i.Imm)}#{i.Imm}";
        }

        var r = is32 ? 'w' : 'r';
        var rhs = Source(i.Opcode) == BPF_X ? $"{r}{i.Src}" : $"0x{(uint)i.Imm:x}";
        return $"if {r}{i.Dst} {JmpOps[op >> 4]} {rhs} goto pc{i.Offset:+0;-0}";
    }
}
