using Kernel.Sim.Bpf.Elf.Btf;
using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Elf;

internal sealed partial class BpfObjectLoader
{
    private const byte CallOpcode = BPF_JMP | BPF_CALL;

    /// <summary>A function in an executable section: [Start, End) in instructions.</summary>
    private sealed record Function(string Name, int Section, int Start, int End, bool IsEntry);

    /// <summary>What a relocation record asks of the instruction it names.</summary>
    private readonly record struct InsnReloc(int RelIndex, string RelSection, ElfSymbol Symbol, uint Type, long Addend);

    private readonly Dictionary<int, Instruction[]> code = [];
    private readonly Dictionary<int, List<Function>> functions = [];
    private readonly Dictionary<int, Dictionary<int, InsnReloc>> relocs = [];

    private List<BpfProgramSpec> LoadPrograms()
    {
        foreach (var s in elf.Sections)
        {
            if (!s.IsExecutable || s.Size == 0)
                continue;
            if (s.Size % Instruction.Size != 0)
                throw new BpfObjectException($"elf: corrupted program section '{s.Name}': size {s.Size} is not a multiple of {Instruction.Size}");
            code[s.Index] = Instruction.ReadAll(elf.Contents(s));
            functions[s.Index] = FindFunctions(s);
        }

        foreach (var rs in elf.Sections)
        {
            if (rs.Type is not (ElfSection.SHT_REL or ElfSection.SHT_RELA))
                continue;
            if (rs.Info >= elf.Sections.Count)
                throw new BpfObjectException($"elf: relocation section {rs.Name}: sh_info {rs.Info} out of range ({elf.Sections.Count} sections)");
            if (code.ContainsKey((int)rs.Info))
                ReadProgramRelocs(rs);
        }

        var programs = new List<BpfProgramSpec>();
        foreach (var (sec, funcs) in functions.OrderBy(kv => kv.Key))
        {
            foreach (var f in funcs.Where(f => f.IsEntry))
                programs.Add(Link(f));
        }

        return programs;
    }

    /// <summary>
    /// The functions of an executable section: its STT_FUNC symbols (libbpf's programs, global or static, in any
    /// section but <c>.text</c>; subprograms in <c>.text</c>). Objects from older clang have no function symbols:
    /// then the whole section is one program named after the section.
    /// </summary>
    private List<Function> FindFunctions(ElfSection s)
    {
        var isText = s.Name == ".text";
        var count = (int)(s.Size / Instruction.Size);
        var result = new List<Function>();
        foreach (var sym in elf.Symbols)
        {
            if (sym.Index == 0 || sym.SectionIndex != s.Index || sym.Kind != ElfSymbol.STT_FUNC)
                continue;
            if (sym.Value % Instruction.Size != 0 || sym.Size % Instruction.Size != 0 || sym.Size == 0 || sym.Value > s.Size || sym.Size > s.Size - sym.Value)
                throw new BpfObjectException($"elf: sec '{s.Name}': corrupted program '{sym.Name}', offset {sym.Value}, size {sym.Size}");
            result.Add(new Function(sym.Name, s.Index, (int)(sym.Value / 8), (int)((sym.Value + sym.Size) / 8), !isText));
        }

        if (result.Count == 0)
            result.Add(new Function(s.Name, s.Index, 0, count, !isText));
        result.Sort((a, b) => a.Start.CompareTo(b.Start));
        for (var i = 1; i < result.Count; i++)
        {
            if (result[i].Start < result[i - 1].End)
                throw new BpfObjectException($"elf: sec '{s.Name}': functions '{result[i - 1].Name}' and '{result[i].Name}' overlap");
        }

        return result;
    }

    private void ReadProgramRelocs(ElfSection rs)
    {
        var target = elf.Sections[(int)rs.Info];
        var map = new Dictionary<int, InsnReloc>();
        var rels = elf.Relocations(rs);
        for (var i = 0; i < rels.Length; i++)
        {
            var r = rels[i];
            if (r.Type == ElfFile.R_BPF_NONE)
                continue;
            if (r.Type is not (ElfFile.R_BPF_64_64 or ElfFile.R_BPF_64_ABS64 or ElfFile.R_BPF_64_ABS32 or ElfFile.R_BPF_64_NODYLD32 or ElfFile.R_BPF_64_32))
                throw new BpfObjectException($"elf: {rs.Name}: relo #{i}: unknown relocation type {r.Type}");
            if (r.Offset % Instruction.Size != 0 || r.Offset >= target.Size)
                throw new BpfObjectException($"elf: {rs.Name}: relo #{i}: bad insn offset {r.Offset} in section '{target.Name}' ({target.Size} bytes)");
            if (!map.TryAdd((int)(r.Offset / 8), new InsnReloc(i, rs.Name, elf.Symbols[r.SymbolIndex], r.Type, r.Addend)))
                throw new BpfObjectException($"elf: {rs.Name}: relo #{i}: second relocation for insn {r.Offset / 8} of '{target.Name}'");
        }

        relocs[target.Index] = map;
    }

    /// <summary>
    /// Links a program as libbpf's bpf_object__relocate does: the entry function's instructions, then each
    /// subprogram it reaches appended once, pseudo calls (and lddw src=4 function addresses) rewritten to
    /// pc-relative offsets in the appended layout, map and global data references resolved.
    /// </summary>
    private BpfProgramSpec Link(Function entry)
    {
        var sectionName = elf.Sections[entry.Section].Name;
        var info = ProgramType(sectionName);
        var insns = new List<Instruction>();
        var mapRefs = new List<MapReference>();
        var placed = new Dictionary<Function, int>();
        var queue = new Queue<Function>();
        var lines = new List<BtfLineInfo>();
        var funcInfos = new List<BtfFuncInfo>();
        var subprogs = new List<(string, int)>();
        placed[entry] = 0;
        queue.Enqueue(entry);
        while (queue.Count > 0)
        {
            var f = queue.Dequeue();
            var newStart = placed[f];
            var sec = code[f.Section];
            insns.AddRange(sec.AsSpan(f.Start, f.End - f.Start));
            if (f != entry)
                subprogs.Add((f.Name, newStart));
            CopyExtInfo(f, newStart, lines, funcInfos);
            relocs.TryGetValue(f.Section, out var secRelocs);
            for (var o = f.Start; o < f.End; o++)
            {
                var n = newStart + (o - f.Start);
                var insn = sec[o];
                InsnReloc rel = default;
                var hasRel = secRelocs is not null && secRelocs.TryGetValue(o, out rel);
                if (insn.IsLdImm64 && o + 1 >= f.End)
                    throw new BpfObjectException($"prog '{entry.Name}': lddw at insn {o} of '{elf.Sections[f.Section].Name}' has no second slot");
                if (hasRel)
                {
                    ApplyReloc(entry, f, o, n, insn, rel, insns, mapRefs, queue, placed);
                }
                else if (insn.Opcode == CallOpcode && insn.Src == BPF_PSEUDO_CALL)
                {
                    // A call clang resolved itself (callee in the same section): the target is pc-relative in the section.
                    var t = o + insn.Imm + 1;
                    var callee = Place(entry, f.Section, t, o, queue, placed);
                    insns[n] = WithImm(insn, placed[callee.F] + (t - callee.F.Start) - n - 1, insn.Src);
                }

                if (insn.IsLdImm64)
                    o++;
            }
        }

        return new BpfProgramSpec(entry.Name, sectionName, info?.TypeName ?? "unspec", info?.LinuxType ?? -1, info?.AttachType, info?.AttachTarget)
        {
            Instructions = insns,
            MapReferences = mapRefs,
            SectionOffset = entry.Start,
            Subprograms = subprogs,
            LineInfo = lines.OrderBy(l => l.InsnIndex).ToList(),
            FuncInfo = funcInfos,
        };
    }

    private ProgramSectionInfo? ProgramType(string section)
    {
        if (options.ForcedType is null)
            return SectionDefs.Lookup(section);
        return SectionDefs.ForType(options.ForcedType)
            ?? throw new BpfObjectException($"unknown program type '{options.ForcedType}' (known: {string.Join(", ", SectionDefs.TypeNames)})");
    }

    private void ApplyReloc(Function entry, Function f, int o, int n, Instruction insn, InsnReloc rel, List<Instruction> insns, List<MapReference> mapRefs, Queue<Function> queue, Dictionary<Function, int> placed)
    {
        var sym = rel.Symbol;
        var where = $"prog '{entry.Name}': relo #{rel.RelIndex} in {rel.RelSection} against '{sym.Name}' at insn {o}";
        if (insn.Opcode == CallOpcode && insn.Src == BPF_PSEUDO_CALL)
        {
            if (!code.ContainsKey(sym.SectionIndex))
                throw new BpfObjectException($"{where}: call target is not in a program section");
            var t = ((long)(sym.Value + (ulong)rel.Addend) / 8) + insn.Imm + 1;
            var callee = Place(entry, sym.SectionIndex, t, o, queue, placed);
            insns[n] = WithImm(insn, placed[callee.F] + (callee.T - callee.F.Start) - n - 1, BPF_PSEUDO_CALL);
            return;
        }

        if (!insn.IsLdImm64)
            throw new BpfObjectException($"{where}: invalid relo for insns[{o}].code 0x{insn.Opcode:x2}");
        if (rel.Type is not (ElfFile.R_BPF_64_64 or ElfFile.R_BPF_64_ABS64))
            throw new BpfObjectException($"{where}: relocation type {rel.Type} on lddw (expected R_BPF_64_64)");
        if (sym.SectionIndex == ElfSymbol.SHN_UNDEF)
            throw new BpfObjectException($"{where}: extern '{sym.Name}' is not supported");
        var hi = insns[n + 1];
        if (code.ContainsKey(sym.SectionIndex))
        {
            // Address of a function (bpf_loop callbacks): lddw src=4 with a pc-relative imm.
            var t = (long)(sym.Value + (ulong)rel.Addend + (ulong)(long)insn.Imm) / 8;
            var callee = Place(entry, sym.SectionIndex, t, o, queue, placed);
            insns[n] = WithImm(insn, placed[callee.F] + (callee.T - callee.F.Start) - n - 1, BPF_PSEUDO_FUNC);
            return;
        }

        if (mapBySymbol.TryGetValue((sym.SectionIndex, sym.Value), out var mapIdx) && maps[mapIdx].Origin != MapOrigin.GlobalData)
        {
            if (sym.Kind == ElfSymbol.STT_SECTION && sym.Value != 0)
                throw new BpfObjectException($"{where}: bad map relo against section symbol");
            insns[n] = WithImm(insn, mapIdx, BPF_PSEUDO_MAP_FD);
            insns[n + 1] = WithImm(hi, 0, 0);
            mapRefs.Add(new MapReference(n, mapIdx, MapReferenceKind.Map, 0));
            return;
        }

        if (dataMapBySection.TryGetValue(sym.SectionIndex, out var dataIdx))
        {
            var off = (long)sym.Value + rel.Addend + insn.Imm;
            if (off < 0 || off >= maps[dataIdx].ValueSize)
                throw new BpfObjectException($"{where}: offset {off} outside global data map '{maps[dataIdx].Name}' ({maps[dataIdx].ValueSize} bytes)");
            insns[n] = WithImm(insn, dataIdx, BPF_PSEUDO_MAP_VALUE);
            insns[n + 1] = WithImm(hi, (int)off, 0);
            mapRefs.Add(new MapReference(n, dataIdx, MapReferenceKind.Value, (int)off));
            return;
        }

        var secName = sym.SectionIndex < elf.Sections.Count ? elf.Sections[sym.SectionIndex].Name : "#" + sym.SectionIndex;
        throw new BpfObjectException($"{where}: bad map relo against '{sym.Name}' in section '{secName}'");
    }

    /// <summary>Finds the function holding instruction <paramref name="t"/> of section <paramref name="section"/> and queues it for appending if not yet placed.</summary>
    private (Function F, int T) Place(Function entry, int section, long t, int from, Queue<Function> queue, Dictionary<Function, int> placed)
    {
        var f = functions[section].FirstOrDefault(f => t >= f.Start && t < f.End)
            ?? throw new BpfObjectException($"prog '{entry.Name}': call at insn {from} targets insn {t} of '{elf.Sections[section].Name}', which is in no function");
        if (!placed.ContainsKey(f))
        {
            // Functions are laid out in the order they are first reached: the new one goes after every placed one.
            var start = placed.Keys.Sum(p => p.End - p.Start);
            placed[f] = start;
            queue.Enqueue(f);
        }

        return (f, (int)t);
    }

    private static Instruction WithImm(Instruction insn, int imm, byte src) => new(insn.Opcode, insn.Dst, src, insn.Offset, imm);

    /// <summary>Copies the BTF.ext line and func info of function <paramref name="f"/> to its place in the linked program.</summary>
    private void CopyExtInfo(Function f, int newStart, List<BtfLineInfo> lines, List<BtfFuncInfo> funcInfos)
    {
        if (btfExt is null)
            return;
        var name = elf.Sections[f.Section].Name;
        if (btfExt.LineInfo.TryGetValue(name, out var li))
        {
            foreach (var l in li)
            {
                if (l.InsnIndex >= f.Start && l.InsnIndex < f.End)
                    lines.Add(l with { InsnIndex = l.InsnIndex - f.Start + newStart });
            }
        }

        if (btfExt.FuncInfo.TryGetValue(name, out var fi))
        {
            foreach (var x in fi)
            {
                if (x.InsnIndex >= f.Start && x.InsnIndex < f.End)
                    funcInfos.Add(x with { InsnIndex = x.InsnIndex - f.Start + newStart });
            }
        }
    }
}
