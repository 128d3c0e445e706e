using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>
/// The names shared by <see cref="ConformanceAssembler"/> and <see cref="ConformanceDisassembler"/>, so the two
/// cannot drift apart: ALU and jump operation names, load/store size suffixes, atomic operation names and the
/// lddw source kinds of the KernelSim extension.
/// </summary>
internal static class ConformanceSyntax
{
    /// <summary>Two-operand ALU names (bare = ALU64, suffix 32 = ALU). sdiv/smod are div/mod with off 1.</summary>
    public static readonly (string Name, byte Op, short Offset)[] AluOps =
    [
        ("add", BPF_ADD, 0), ("sub", BPF_SUB, 0), ("mul", BPF_MUL, 0), ("div", BPF_DIV, 0), ("sdiv", BPF_DIV, 1),
        ("or", BPF_OR, 0), ("and", BPF_AND, 0), ("lsh", BPF_LSH, 0), ("rsh", BPF_RSH, 0), ("mod", BPF_MOD, 0),
        ("smod", BPF_MOD, 1), ("xor", BPF_XOR, 0), ("mov", BPF_MOV, 0), ("arsh", BPF_ARSH, 0),
    ];

    /// <summary>Conditional jump names (bare = JMP, suffix 32 = JMP32).</summary>
    public static readonly (string Name, byte Op)[] JumpOps =
    [
        ("jeq", BPF_JEQ), ("jgt", BPF_JGT), ("jge", BPF_JGE), ("jset", BPF_JSET), ("jne", BPF_JNE),
        ("jsgt", BPF_JSGT), ("jsge", BPF_JSGE), ("jlt", BPF_JLT), ("jle", BPF_JLE), ("jslt", BPF_JSLT),
        ("jsle", BPF_JSLE),
    ];

    /// <summary>Size suffixes of ldx/st/stx/ldabs/ldind.</summary>
    public static readonly (string Suffix, byte Size)[] Sizes = [("b", BPF_B), ("h", BPF_H), ("w", BPF_W), ("dw", BPF_DW)];

    /// <summary>Atomic operations by name (imm without the fetch bit, except xchg/cmpxchg which always fetch).</summary>
    public static readonly (string Name, int Imm)[] AtomicOps =
    [
        ("add", BPF_ADD), ("and", BPF_AND), ("or", BPF_OR), ("xor", BPF_XOR), ("xchg", BPF_XCHG), ("cmpxchg", BPF_CMPXCHG),
    ];

    /// <summary>
    /// lddw source kinds (KernelSim extension, src_reg 1..6): <c>lddw %r1, map_fd 3</c>. Names follow the
    /// BPF_PSEUDO_* constants of include/uapi/linux/bpf.h.
    /// </summary>
    public static readonly string[] LddwKinds = ["", "map_fd", "map_value", "btf_id", "func", "map_idx", "map_idx_value"];

    public static string SizeSuffix(byte size) => size switch
    {
        BPF_B => "b",
        BPF_H => "h",
        BPF_W => "w",
        _ => "dw",
    };
}
