using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>
/// An instruction as the kernel verifier log prints it (kernel/bpf/disasm.c, <c>print_bpf_insn</c>): the opcode in
/// parentheses, then C-like text with the kernel's own spacing — <c>(7b) *(u64 *)(r10 -8) = r1</c>,
/// <c>(85) call bpf_map_lookup_elem#1</c>, <c>(15) if r0 == 0x0 goto pc+2</c>. Encodings the kernel would reject print
/// as disasm.c prints them too (<c>BUG_ldx_a1</c>, <c>(null)</c> for an unnamed operator), so a log of a bad program
/// still reads as Linux's would. The verifier's <c>N: </c> prefix is the caller's.
/// </summary>
public sealed class KernelInsnFormatter
{
    private const int BPF_LOAD_ACQ = 0x100;
    private const int BPF_STORE_REL = 0x110;
    private const byte BPF_JCOND = 0xe0;
    private const byte BPF_NOSPEC = 0xc0;

    // bpf_alu_string / bpf_jmp_string of disasm.c, indexed by op >> 4; null prints as "(null)" as the kernel's vsnprintf does.
    private static readonly string?[] AluStrings =
    [
        "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", null, null,
    ];

    private static readonly string?[] JumpStrings =
    [
        "jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", null, null,
    ];

    /// <summary>Formats with no helper names: helper calls print as <c>call unknown#N</c>.</summary>
    public static KernelInsnFormatter Default { get; } = new();

    /// <summary>Helper id → name (<c>bpf_map_lookup_elem</c>), the kernel's <c>func_id_str</c> table; null for an unknown id.</summary>
    public Func<int, string?>? HelperName { get; init; }

    /// <summary>
    /// The <c>cb_call</c> callback: a name for a call the helper table does not name (the verifier names kfuncs from BTF);
    /// null falls back to <c>pc+N</c>, <c>kernel-function</c> or <c>unknown</c> as disasm.c does.
    /// </summary>
    public Func<Instruction, string?>? CallName { get; init; }

    /// <summary>The <c>cb_imm</c> callback for lddw (bpftool prints <c>map[id:N]</c>); null prints <c>0x…</c>.</summary>
    public Func<Instruction, ulong, string?>? ImmName { get; init; }

    /// <summary>When false, an lddw of a map, map value or BTF object prints 0 instead of its address (unprivileged logs).</summary>
    public bool AllowPointerLeaks { get; init; } = true;

    /// <summary>The text for one instruction with the default formatter and an optional helper-name table.</summary>
    public static string FormatInstruction(ReadOnlySpan<Instruction> program, int index, Func<int, string?>? helperName = null) =>
        (helperName is null ? Default : new KernelInsnFormatter { HelperName = helperName }).Format(program, index);

    /// <summary>The verifier-log text of the instruction at <paramref name="index"/> (an lddw reads the next slot too).</summary>
    public string Format(ReadOnlySpan<Instruction> program, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, program.Length);
        var insn = program[index];
        var code = insn.Opcode;
        return Class(code) switch
        {
            BPF_ALU or BPF_ALU64 => FormatAlu(insn),
            BPF_STX => FormatStx(insn),
            BPF_ST => Mode(code) switch
            {
                BPF_MEM => $"({code:x2}) *({Type(code)} *)(r{insn.Dst} {Signed(insn.Offset)}) = {insn.Imm}",
                BPF_NOSPEC => $"({code:x2}) nospec",
                _ => $"BUG_st_{code:x2}",
            },
            BPF_LDX => Mode(code) is BPF_MEM or BPF_MEMSX
                ? $"({code:x2}) r{insn.Dst} = *({(Mode(code) == BPF_MEM ? Type(code) : SignedType(code))} *)(r{insn.Src} {Signed(insn.Offset)})"
                : $"BUG_ldx_{code:x2}",
            BPF_LD => FormatLd(program, index),
            _ => FormatJump(insn),
        };
    }

    private static string FormatAlu(Instruction insn)
    {
        var code = insn.Opcode;
        var p = Class(code) == BPF_ALU ? 'w' : 'r';
        var op = Op(code);
        if (op == BPF_END)
        {
            return Class(code) == BPF_ALU64
                ? $"({code:x2}) r{insn.Dst} = bswap{insn.Imm} r{insn.Dst}"
                : $"({code:x2}) r{insn.Dst} = {(Source(code) == BPF_TO_BE ? "be" : "le")}{insn.Imm} r{insn.Dst}";
        }

        if (op == BPF_NEG)
            return $"({code:x2}) {p}{insn.Dst} = -{p}{insn.Dst}";
        var text = op is BPF_DIV or BPF_MOD && insn.Offset == 1 ? (op == BPF_DIV ? "s/=" : "s%=") : AluStrings[op >> 4] ?? "(null)";
        if (Source(code) == BPF_X)
        {
            var movsx = op == BPF_MOV && insn.Offset is 8 or 16 or 32 ? $"(s{insn.Offset})" : "";
            return $"({code:x2}) {p}{insn.Dst} {text} {movsx}{p}{insn.Src}";
        }

        return $"({code:x2}) {p}{insn.Dst} {text} {insn.Imm}";
    }

    private static string FormatStx(Instruction insn)
    {
        var code = insn.Opcode;
        var type = Type(code);
        var address = $"r{insn.Dst} {Signed(insn.Offset)}";
        if (Mode(code) == BPF_MEM)
            return $"({code:x2}) *({type} *)({address}) = r{insn.Src}";
        if (Mode(code) != BPF_ATOMIC)
            return $"BUG_{code:x2}";
        var width = Size(code) == BPF_DW ? "64" : "";
        return insn.Imm switch
        {
            BPF_ADD or BPF_AND or BPF_OR or BPF_XOR => $"({code:x2}) lock *({type} *)({address}) {AluStrings[insn.Imm >> 4]} r{insn.Src}",
            BPF_ADD | BPF_FETCH or BPF_AND | BPF_FETCH or BPF_OR | BPF_FETCH or BPF_XOR | BPF_FETCH =>
                $"({code:x2}) r{insn.Src} = atomic{width}_fetch_{AtomicName(insn.Imm & 0xf0)}(({type} *)({address}), r{insn.Src})",
            BPF_CMPXCHG => $"({code:x2}) r0 = atomic{width}_cmpxchg(({type} *)({address}), r0, r{insn.Src})",
            BPF_XCHG => $"({code:x2}) r{insn.Src} = atomic{width}_xchg(({type} *)({address}), r{insn.Src})",
            BPF_LOAD_ACQ => $"({code:x2}) r{insn.Dst} = load_acquire(({type} *)(r{insn.Src} {Signed(insn.Offset)}))",
            BPF_STORE_REL => $"({code:x2}) store_release(({type} *)({address}), r{insn.Src})",
            _ => $"BUG_{code:x2}",
        };
    }

    private string FormatLd(ReadOnlySpan<Instruction> program, int index)
    {
        var insn = program[index];
        var code = insn.Opcode;
        switch (Mode(code))
        {
            case BPF_ABS:
                return $"({code:x2}) r0 = *({Type(code)} *)skb[{insn.Imm}]";
            case BPF_IND:
                return $"({code:x2}) r0 = *({Type(code)} *)skb[r{insn.Src} + {insn.Imm}]";
            case BPF_IMM when Size(code) == BPF_DW:
                // disasm.c relies on the verifier having checked the second slot; a truncated one reads as zero here.
                var high = index + 1 < program.Length ? program[index + 1].Imm : 0;
                var imm = ((ulong)(uint)high << 32) | (uint)insn.Imm;
                var isPointer = insn.Src is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE or BPF_PSEUDO_MAP_IDX
                    or BPF_PSEUDO_MAP_IDX_VALUE or BPF_PSEUDO_BTF_ID;
                if (isPointer && !AllowPointerLeaks)
                    imm = 0;
                return $"({code:x2}) r{insn.Dst} = {(ImmName is null ? $"0x{imm:x}" : ImmName(insn, imm) ?? $"0x{imm:x}")}";
            default:
                return $"BUG_ld_{code:x2}";
        }
    }

    private string FormatJump(Instruction insn)
    {
        var code = insn.Opcode;
        var op = Op(code);
        var p = Class(code) == BPF_JMP32 ? 'w' : 'r';
        if (op == BPF_CALL)
        {
            return insn.Src == BPF_PSEUDO_CALL
                ? $"({code:x2}) call pc{CallTarget(insn) ?? Signed(insn.Imm)}"
                : $"({code:x2}) call {CallTarget(insn) ?? (insn.Src == BPF_PSEUDO_KFUNC_CALL ? "kernel-function" : "unknown")}#{insn.Imm}";
        }

        if (code == (BPF_JMP | BPF_JA))
            return $"({code:x2}) goto pc{Signed(insn.Offset)}";
        if (code == (BPF_JMP | BPF_JA | BPF_X))
            return $"({code:x2}) gotox r{insn.Dst}";
        if (code == (BPF_JMP | BPF_JCOND) && insn.Src == 0)
            return $"({code:x2}) may_goto pc{Signed(insn.Offset)}";
        if (code == (BPF_JMP32 | BPF_JA))
            return $"({code:x2}) gotol pc{Signed(insn.Imm)}";
        if (code == (BPF_JMP | BPF_EXIT))
            return $"({code:x2}) exit";
        var text = JumpStrings[op >> 4] ?? "(null)";
        return Source(code) == BPF_X
            ? $"({code:x2}) if {p}{insn.Dst} {text} {p}{insn.Src} goto pc{Signed(insn.Offset)}"
            : $"({code:x2}) if {p}{insn.Dst} {text} 0x{(uint)insn.Imm:x} goto pc{Signed(insn.Offset)}";
    }

    // __func_get_name: the helper table for plain helper calls, then cb_call; null lets the caller pick the fallback.
    private string? CallTarget(Instruction insn)
    {
        if (insn.Src == 0 && insn.Imm >= 0 && HelperName?.Invoke(insn.Imm) is { } helper)
            return helper;
        return CallName?.Invoke(insn);
    }

    private static string AtomicName(int op) => op switch
    {
        BPF_ADD => "add",
        BPF_AND => "and",
        BPF_OR => "or",
        _ => "xor",
    };

    private static string Type(byte code) => LlvmSyntax.UnsignedType(Size(code));

    // bpf_ldsx_string has no DW entry: the kernel prints "(null)" there.
    private static string SignedType(byte code) => Size(code) == BPF_DW ? "(null)" : LlvmSyntax.SignedType(Size(code));

    /// <summary>C's <c>%+d</c>.</summary>
    private static string Signed(int value) => value < 0 ? value.ToString() : "+" + value;
}
