using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>
/// The operator and type spellings of the LLVM/kernel BPF syntax, shared by <see cref="LlvmAssembler"/> and
/// <see cref="LlvmDisassembler"/> so the two cannot drift apart.
/// </summary>
internal static class LlvmSyntax
{
    /// <summary>Compound-assignment operator of each ALU operation (index = op &gt;&gt; 4); null where the op has another shape.</summary>
    public static readonly string?[] AluOperators =
    [
        "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", null, "%=", "^=", "=", "s>>=", null, null, null,
    ];

    /// <summary>Comparison operator of each conditional jump (index = op &gt;&gt; 4); null for JA, CALL, EXIT and unused codes.</summary>
    public static readonly string?[] JumpOperators =
    [
        null, "==", ">", ">=", "&", "!=", "s>", "s>=", null, null, "<", "<=", "s<", "s<=", null, null,
    ];

    /// <summary>The atomic read-modify-write operations and their names in <c>atomic_fetch_*</c> (imm without BPF_FETCH).</summary>
    public static readonly (int Op, string Name, string Operator)[] AtomicOperations =
    [
        (BPF_ADD, "add", "+="), (BPF_OR, "or", "|="), (BPF_AND, "and", "&="), (BPF_XOR, "xor", "^="),
    ];

    /// <summary>The C type of a load/store size field: <c>u8 u16 u32 u64</c>.</summary>
    public static string UnsignedType(byte size) => size switch
    {
        BPF_B => "u8",
        BPF_H => "u16",
        BPF_W => "u32",
        _ => "u64",
    };

    /// <summary>The C type of a sign-extending load size field: <c>s8 s16 s32</c>.</summary>
    public static string SignedType(byte size) => size switch
    {
        BPF_B => "s8",
        BPF_H => "s16",
        _ => "s32",
    };

    /// <summary>Parses <c>u8</c>..<c>u64</c> or <c>s8</c>..<c>s32</c> into a size field and signedness.</summary>
    public static bool TryParseType(string text, out byte size, out bool signed)
    {
        signed = text.Length > 0 && text[0] == 's';
        size = 0;
        switch (text)
        {
            case "u8" or "s8": size = BPF_B; return true;
            case "u16" or "s16": size = BPF_H; return true;
            case "u32" or "s32": size = BPF_W; return true;
            case "u64": size = BPF_DW; return true;
            default: return false;
        }
    }

    /// <summary><c>+ 4</c> / <c>- 8</c> as llvm-objdump prints a memory offset.</summary>
    public static string Offset(short off) => off < 0 ? $"- {-(int)off}" : $"+ {off}";

    /// <summary><c>+2</c> / <c>-1</c>: a signed relative jump target.</summary>
    public static string Relative(long delta) => delta < 0 ? delta.ToString() : "+" + delta;
}
