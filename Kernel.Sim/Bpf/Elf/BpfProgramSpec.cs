using Kernel.Sim.Bpf.Elf.Btf;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bpf.Elf;

/// <summary>How an lddw refers to a map after relocation.</summary>
public enum MapReferenceKind
{
    /// <summary>lddw src=1 (BPF_PSEUDO_MAP_FD): the map itself.</summary>
    Map,

    /// <summary>lddw src=2 (BPF_PSEUDO_MAP_VALUE): an address inside a single-entry array's value (global data).</summary>
    Value,
}

/// <summary>An lddw at <see cref="InsnIndex"/> naming map <see cref="MapIndex"/> of the object (and, for values, the offset in it).</summary>
public readonly record struct MapReference(int InsnIndex, int MapIndex, MapReferenceKind Kind, int Offset);

/// <summary>
/// One program of an object, linked: its own instructions followed by every subprogram it calls (transitively),
/// calls patched to pc-relative offsets, lddw map references in the kernel's form (src=1 imm=map index, or src=2
/// imm=map index with the value offset in the second slot — the map index is the fd a loader substitutes).
/// </summary>
public sealed record BpfProgramSpec(string Name, string Section, string TypeName, int LinuxType, string? AttachType, string? AttachTarget)
{
    public IReadOnlyList<Instruction> Instructions { get; init; } = [];

    public IReadOnlyList<MapReference> MapReferences { get; init; } = [];

    /// <summary>Offset (in instructions) of the entry function in its section, and the subprograms appended: name → first instruction.</summary>
    public int SectionOffset { get; init; }

    public IReadOnlyList<(string Name, int Start)> Subprograms { get; init; } = [];

    /// <summary>Line info per instruction of <see cref="Instructions"/> (as relocated), sorted by instruction.</summary>
    public IReadOnlyList<BtfLineInfo> LineInfo { get; init; } = [];

    /// <summary>Func info per function start (entry at 0, then subprograms).</summary>
    public IReadOnlyList<BtfFuncInfo> FuncInfo { get; init; } = [];

    /// <summary>True when no section convention named a type and none was forced.</summary>
    public bool TypeUnknown => LinuxType < 0;

    /// <summary>The source line covering instruction <paramref name="insn"/> (the last line_info record at or before it), or null.</summary>
    public BtfLineInfo? LineFor(int insn)
    {
        BtfLineInfo? best = null;
        foreach (var l in LineInfo)
        {
            if (l.InsnIndex > insn)
                break;
            best = l;
        }

        return best;
    }
}
