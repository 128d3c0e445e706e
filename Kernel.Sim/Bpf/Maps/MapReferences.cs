using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Maps;

/// <summary>A program refers to a map it cannot have: the instruction index and Linux's reason.</summary>
public sealed class MapReferenceException : Exception
{
    public MapReferenceException(int instructionIndex, string reason)
        : base($"insn {instructionIndex}: {reason}")
    {
        InstructionIndex = instructionIndex;
        Reason = reason;
    }

    public MapReferenceException()
    {
    }

    public MapReferenceException(string message)
        : base(message)
    {
    }

    public MapReferenceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The lddw's index.</summary>
    public int InstructionIndex { get; }

    /// <summary>Linux's verifier message.</summary>
    public string Reason { get; } = "";
}

/// <summary>
/// The load-time rewrite of map references (resolve_pseudo_ldimm64 in kernel/bpf/verifier.c), used by every engine:
/// <list type="bullet">
/// <item>src 1 BPF_PSEUDO_MAP_FD: imm = map fd → the map pointer;</item>
/// <item>src 2 BPF_PSEUDO_MAP_VALUE: imm = map fd, the second slot's imm = offset → address of value 0 + offset
///   (array maps with max_entries 1, as array_map_direct_value_addr requires; the offset must be below value_size);</item>
/// <item>src 5 BPF_PSEUDO_MAP_IDX and 6 BPF_PSEUDO_MAP_IDX_VALUE: the same with imm an index into fd_array.</item>
/// </list>
/// The rewritten lddw has src 0 and the address split over the two imms, exactly what the kernel leaves for its
/// interpreter and JIT. Other pseudo sources are left alone.
/// </summary>
public static class MapReferences
{
    /// <summary>Rewrites every map reference of <paramref name="program"/> in place; returns the maps it uses in order of first use.</summary>
    public static IReadOnlyList<BpfMap> Resolve(Span<Instruction> program, BpfMapRegistry maps, ReadOnlySpan<int> fdArray = default)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var used = new List<BpfMap>();
        for (var i = 0; i < program.Length; i++)
        {
            var insn = program[i];
            if (!insn.IsLdImm64)
                continue;
            if (i + 1 >= program.Length)
                throw new MapReferenceException(i, "invalid bpf_ld_imm64 insn");
            var src = insn.Src;
            if (src is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE or BPF_PSEUDO_MAP_IDX or BPF_PSEUDO_MAP_IDX_VALUE)
            {
                var map = FindMap(i, insn, maps, fdArray);
                ulong address;
                if (src is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_IDX)
                {
                    address = map.Pointer;
                }
                else
                {
                    var offset = (uint)program[i + 1].Imm;
                    if (map is not ArrayMap array || map.Type != BpfMapType.Array || map.MaxEntries != 1)
                        throw new MapReferenceException(i, $"direct value access on {map.Type} map '{map.Definition.Name}' is not supported (array with max_entries 1 only)");
                    if (offset >= (uint)map.ValueSize)
                        throw new MapReferenceException(i, $"invalid access to map value pointer, value_size={map.ValueSize} off={offset}");
                    address = array.ValuesAddress + offset;
                }

                program[i] = new Instruction(insn.Opcode, insn.Dst, 0, insn.Offset, (int)(uint)address);
                program[i + 1] = new Instruction(0, 0, 0, 0, (int)(uint)(address >> 32));
                if (!used.Contains(map))
                {
                    used.Add(map);
                    map.AddProgramReference();
                }
            }

            i++; // the second slot
        }

        return used;
    }

    /// <summary>
    /// What the verifier needs for an unresolved program: the map definitions (fd_array's maps first, in order, so
    /// src 5/6 indices address them directly) and the fd → index table for src 1/2.
    /// </summary>
    public static (IReadOnlyList<MapDefinition> Maps, IReadOnlyDictionary<int, int> Fds) VerifierView(
        ReadOnlySpan<Instruction> program, BpfMapRegistry maps, ReadOnlySpan<int> fdArray = default)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var definitions = new List<MapDefinition>();
        var fds = new Dictionary<int, int>();
        foreach (var fd in fdArray)
        {
            var map = maps.Map(fd);
            definitions.Add(map?.Definition ?? new MapDefinition(BpfMapType.Unspec, 0, 0, 0));
            if (map is not null)
                fds.TryAdd(fd, definitions.Count - 1);
        }

        for (var i = 0; i < program.Length; i++)
        {
            var insn = program[i];
            if (!insn.IsLdImm64)
                continue;
            if (insn.Src is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE && !fds.ContainsKey(insn.Imm) && maps.Map(insn.Imm) is { } map)
            {
                definitions.Add(map.Definition);
                fds[insn.Imm] = definitions.Count - 1;
            }

            i++;
        }

        return (definitions, fds);
    }

    private static BpfMap FindMap(int index, Instruction insn, BpfMapRegistry maps, ReadOnlySpan<int> fdArray)
    {
        var byFd = insn.Src is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE;
        int fd;
        if (byFd)
        {
            fd = insn.Imm;
        }
        else
        {
            if (fdArray.IsEmpty)
                throw new MapReferenceException(index, "fd_array not provided for map index reference");
            if ((uint)insn.Imm >= (uint)fdArray.Length)
                throw new MapReferenceException(index, $"map index {insn.Imm} is out of range of fd_array ({fdArray.Length} entries)");
            fd = fdArray[insn.Imm];
        }

        return maps.Map(fd) ?? throw new MapReferenceException(index, $"fd {fd} is not pointing to valid bpf_map");
    }
}
