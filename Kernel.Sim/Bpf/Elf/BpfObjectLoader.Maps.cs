using System.Buffers.Binary;
using System.Text;
using Kernel.Sim.Bpf.Elf.Btf;

namespace Kernel.Sim.Bpf.Elf;

internal sealed partial class BpfObjectLoader
{
    private const int BpfObjNameLen = 16;

    // array_map_alloc_check refuses value_size above KMALLOC_MAX_SIZE (4 MiB on x86-64).
    private const ulong KmallocMaxSize = 4 << 20;

    /// <summary>
    /// The legacy <c>maps</c> section: one record per symbol, the record size being the section size over the
    /// symbol count (libbpf's bpf_object__init_user_maps). libbpf's own struct bpf_map_def is 20 bytes; samples/bpf's
    /// bpf_load.c used 28 (+ inner_map_idx, numa_node) and iproute2's struct bpf_elf_map 36 (+ id, pinning,
    /// inner_id, inner_idx): the first five fields mean the same in all, the rest is kept in <see cref="BpfMapSpec.Extra"/>.
    /// </summary>
    private void ReadLegacyMaps()
    {
        var sec = elf.Find("maps");
        if (sec is null)
            return;
        var syms = SymbolsIn(sec.Index).OrderBy(s => s.Value).ToList();
        if (sec.Size == 0)
            return;
        if (sec.Type != ElfSection.SHT_PROGBITS)
            throw new BpfObjectException($"elf: maps section {sec.Name}: type {sec.Type} is not SHT_PROGBITS");
        if (syms.Count == 0)
            throw new BpfObjectException($"elf: maps section {sec.Name} has {sec.Size} bytes but no map symbols: unable to determine map definition size");
        if (sec.Size % (ulong)syms.Count != 0)
            throw new BpfObjectException($"elf: unable to determine legacy map definition size in section {sec.Name}, {syms.Count} maps in {sec.Size} bytes");
        var defSize = (int)(sec.Size / (ulong)syms.Count);
        if (defSize < 20 || defSize % 4 != 0)
            throw new BpfObjectException($"elf: section {sec.Name}: map definition size {defSize} is not a struct bpf_map_def (20, 28 or 36 bytes)");
        var bytes = elf.Contents(sec);
        var extraNames = defSize switch
        {
            28 => new[] { "inner_map_idx", "numa_node" },
            36 => new[] { "id", "pinning", "inner_id", "inner_idx" },
            _ => [],
        };
        foreach (var sym in syms)
        {
            if (sym.Value % (ulong)defSize != 0 || sym.Value > sec.Size - (ulong)defSize)
                throw new BpfObjectException($"elf: corrupted maps section in {objName}: map '{sym.Name}' at offset {sym.Value} (record size {defSize}, section size {sec.Size})");
            var r = bytes.Slice((int)sym.Value, defSize);
            var extra = new Dictionary<string, ulong>();
            for (var i = 20; i + 4 <= defSize; i += 4)
            {
                var v = BinaryPrimitives.ReadUInt32LittleEndian(r[i..]);
                var k = (i - 20) / 4;
                extra[k < extraNames.Length ? extraNames[k] : "field" + (i / 4)] = v;
            }

            var map = new BpfMapSpec(sym.Name, U32(r, 0), U32(r, 4), U32(r, 8), U32(r, 12), U32(r, 16), MapOrigin.Legacy, sec.Name) { Extra = extra };
            AddMap(map, sec.Index, sym.Value);
        }
    }

    private static uint U32(ReadOnlySpan<byte> r, int off) => BinaryPrimitives.ReadUInt32LittleEndian(r[off..]);

    private void AddMap(BpfMapSpec map, int section, ulong offset)
    {
        if (!MapTypeNames.IsKnown(map.TypeId))
            throw new BpfObjectException($"map '{map.Name}': unknown map type {map.TypeId}");
        if (maps.Any(m => m.Name == map.Name))
            throw new BpfObjectException($"map '{map.Name}': duplicate map name in section {map.Section}");
        mapBySymbol[(section, offset)] = maps.Count;
        maps.Add(map);
    }

    /// <summary>BTF-defined maps: the VARs of the <c>.maps</c> DATASEC, each a struct whose members encode the attributes (libbpf's parse_btf_map_def).</summary>
    private void ReadBtfMaps()
    {
        var sec = elf.Find(".maps");
        if (sec is null)
            return;
        if (btf is null)
            throw new BpfObjectException("elf: .maps section present but no .BTF: BTF-defined maps need BTF (compile with -g)");
        var datasec = btf.Find(".maps", BtfKind.Datasec)
            ?? throw new BpfObjectException("btf: DATASEC '.maps' not found");
        var mapSyms = SymbolsIn(sec.Index).ToList();
        foreach (var vsi in datasec.Vars)
        {
            var v = btf[vsi.Type];
            if (v.Kind != BtfKind.Var)
                throw new BpfObjectException($"btf: map #{vsi.Type} in .maps: not a VAR but {BtfTypes.KindName(v.Kind)}");
            var name = v.Name;
            if ((ulong)vsi.Offset + vsi.Size > sec.Size)
                throw new BpfObjectException($"map '{name}': BTF var section info (offset {vsi.Offset}, size {vsi.Size}) outside the {sec.Size}-byte .maps section");
            var def = btf.SkipModifiers(v.RefType);
            if (def.Kind != BtfKind.Struct)
                throw new BpfObjectException($"map '{name}': unexpected def kind {BtfTypes.KindName(def.Kind)}.");
            // The DATASEC size may exceed the struct's: an __array(values, ...) initialiser extends the variable.
            if (vsi.Size < btf.ResolveSize(def.Id))
                throw new BpfObjectException($"map '{name}': invalid def size (BTF {btf.ResolveSize(def.Id)}, DATASEC {vsi.Size}).");
            var map = ParseBtfMapDef(name, def);

            // clang leaves DATASEC offsets for the linker; libbpf's btf_fixup_datasec takes them from the symbols.
            var sym = mapSyms.FirstOrDefault(s => s.Name == name)
                ?? throw new BpfObjectException($"map '{name}': couldn't find map symbol in section .maps");
            if (sym.Value > sec.Size - vsi.Size)
                throw new BpfObjectException($"map '{name}': symbol offset {sym.Value} (size {vsi.Size}) outside the {sec.Size}-byte .maps section");
            AddMap(map, sec.Index, sym.Value);
            btfMapLayouts[maps.Count - 1] = ((uint)sym.Value, vsi.Size, def);
        }
    }

    // For prog-array initialisation: map index -> (offset in .maps, definition struct).
    private readonly Dictionary<int, (uint Offset, uint Size, BtfType Def)> btfMapLayouts = [];

    private BpfMapSpec ParseBtfMapDef(string name, BtfType def)
    {
        uint type = 0, keySize = 0, valueSize = 0, maxEntries = 0, flags = 0;
        int keyId = 0, valueId = 0;
        var extra = new Dictionary<string, ulong>();
        for (var i = 0; i < def.Members.Count; i++)
        {
            var m = def.Members[i];
            switch (m.Name)
            {
                case "type":
                    type = MapFieldInt(name, m);
                    break;
                case "max_entries":
                    maxEntries = MapFieldInt(name, m);
                    break;
                case "map_flags":
                    flags = MapFieldInt(name, m);
                    break;
                case "numa_node" or "pinning" or "map_extra":
                    extra[m.Name] = MapFieldInt(name, m);
                    break;
                case "key_size":
                    keySize = SetSize(name, "key", keySize, MapFieldInt(name, m));
                    break;
                case "value_size":
                    valueSize = SetSize(name, "value", valueSize, MapFieldInt(name, m));
                    break;
                case "key":
                    keyId = PointeeType(name, m);
                    keySize = SetSize(name, "key", keySize, (uint)btf!.ResolveSize(keyId));
                    break;
                case "value":
                    valueId = PointeeType(name, m);
                    valueSize = SetSize(name, "value", valueSize, (uint)btf!.ResolveSize(valueId));
                    break;
                case "values":
                    CheckValuesMember(name, m, i == def.Members.Count - 1);
                    valueSize = SetSize(name, "value", valueSize, 4);
                    break;
                default:
                    warnings.Add($"map '{name}': ignoring unknown field '{m.Name}'.");
                    break;
            }
        }

        return new BpfMapSpec(name, type, keySize, valueSize, maxEntries, flags, MapOrigin.Btf, ".maps")
        {
            Extra = extra,
            BtfKeyTypeId = keyId,
            BtfValueTypeId = valueId,
        };
    }

    private static uint SetSize(string map, string what, uint current, uint size)
    {
        if (current != 0 && current != size)
            throw new BpfObjectException($"map '{map}': conflicting {what} size {current} != {size}.");
        return size;
    }

    /// <summary>__uint(name, N) is <c>int (*name)[N]</c>: a PTR to an ARRAY whose nelems is the value.</summary>
    private uint MapFieldInt(string map, BtfMember m)
    {
        var ptr = btf!.SkipModifiers(m.Type);
        if (ptr.Kind != BtfKind.Ptr)
            throw new BpfObjectException($"map '{map}': attr '{m.Name}': expected PTR, got {BtfTypes.KindName(ptr.Kind)}.");
        var arr = btf.SkipModifiers(ptr.RefType);
        if (arr.Kind != BtfKind.Array)
            throw new BpfObjectException($"map '{map}': attr '{m.Name}': expected ARRAY, got {BtfTypes.KindName(arr.Kind)}.");
        return arr.Array.Nelems;
    }

    /// <summary>__type(name, T) is <c>T *name</c>: the pointee is the key/value type.</summary>
    private int PointeeType(string map, BtfMember m)
    {
        var ptr = btf!.SkipModifiers(m.Type);
        if (ptr.Kind != BtfKind.Ptr)
            throw new BpfObjectException($"map '{map}': {m.Name} spec is not PTR: {BtfTypes.KindName(ptr.Kind)}.");
        return ptr.RefType;
    }

    /// <summary>__array(values, T) is <c>T *values[]</c>: a zero-length ARRAY of PTR, the last member.</summary>
    private void CheckValuesMember(string map, BtfMember m, bool last)
    {
        if (!last)
            throw new BpfObjectException($"map '{map}': '{m.Name}' member should be last.");
        var arr = btf!.SkipModifiers(m.Type);
        if (arr.Kind != BtfKind.Array || arr.Array.Nelems != 0)
            throw new BpfObjectException($"map '{map}': should be a zero-sized ARRAY for '{m.Name}' member.");
        var ptr = btf.SkipModifiers(arr.Array.ElemType);
        if (ptr.Kind != BtfKind.Ptr)
            throw new BpfObjectException($"map '{map}': {m.Name} spec is not a zero-sized array of PTRs.");
    }

    /// <summary>
    /// Global data: every non-empty <c>.rodata</c>, <c>.data</c>, <c>.bss</c> and <c>.rodata.*</c>/<c>.data.*</c>
    /// section becomes a single-entry array map named as libbpf names it (up to 8 characters of the object name,
    /// then the section name), value size the section size, initial value the section's bytes.
    /// </summary>
    private void ReadGlobalData()
    {
        foreach (var s in elf.Sections)
        {
            var isRodata = s.Name == ".rodata" || s.Name.StartsWith(".rodata.", StringComparison.Ordinal);
            var isData = s.Name == ".data" || s.Name.StartsWith(".data.", StringComparison.Ordinal);
            var isBss = s.Name == ".bss";
            if (!(isRodata || isData || isBss) || s.Size == 0)
                continue;
            if (isBss ? s.Type != ElfSection.SHT_NOBITS : s.Type != ElfSection.SHT_PROGBITS)
                throw new BpfObjectException($"elf: section {s.Name}: unexpected section type {s.Type}");
            if (s.Size > KmallocMaxSize)
                throw new BpfObjectException($"map '{InternalMapName(s.Name)}': section {s.Name} of {s.Size} bytes exceeds the array map value limit (KMALLOC_MAX_SIZE {KmallocMaxSize})");
            var value = isBss ? new byte[s.Size] : elf.Contents(s).ToArray();
            var flags = BpfMapSpec.BPF_F_MMAPABLE | (isRodata ? BpfMapSpec.BPF_F_RDONLY_PROG : 0);
            var vars = new List<(string, uint, uint)>();
            var ds = btf?.Find(s.Name, BtfKind.Datasec);
            if (ds is not null)
            {
                foreach (var v in ds.Vars)
                {
                    // As for .maps: the symbol, not the DATASEC entry clang leaves at 0, gives the offset.
                    var name = btf![v.Type].Name;
                    var sym = SymbolsIn(s.Index).FirstOrDefault(x => x.Name == name);
                    var off = sym?.Value ?? v.Offset;
                    if (off > s.Size || v.Size > s.Size - off)
                        throw new BpfObjectException($"btf: variable '{name}' (offset {off}, size {v.Size}) outside section {s.Name} ({s.Size} bytes)");
                    vars.Add((name, (uint)off, v.Size));
                }
            }

            var map = new BpfMapSpec(InternalMapName(s.Name), 2, 4, (uint)s.Size, 1, flags, MapOrigin.GlobalData, s.Name)
            {
                InitialValue = value,
                Variables = vars,
                BtfValueTypeId = ds?.Id ?? 0,
            };
            dataMapBySection[s.Index] = maps.Count;
            AddMap(map, s.Index, ulong.MaxValue);
        }
    }

    /// <summary>libbpf's internal_map_name: a prefix of the object name (leaving room for the suffix in BPF_OBJ_NAME_LEN, at most 8) + section name, characters other than alphanumerics, '_' and '.' replaced by '_'.</summary>
    private string InternalMapName(string section)
    {
        var pfx = Math.Min(Math.Min(BpfObjNameLen - section.Length - 1, 8), objName.Length);
        var name = objName[..Math.Max(pfx, 0)] + section;
        if (name.Length > BpfObjNameLen - 1)
            name = name[..(BpfObjNameLen - 1)];
        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_');
        return sb.ToString();
    }

    /// <summary>
    /// Static prog-array initialisation: each R_BPF_64_ABS64 in <c>.rel.maps</c> at an offset inside a map's
    /// <c>values</c> member points at a program; its slot is the offset within <c>values</c> over 8.
    /// </summary>
    private void InitProgArrays(List<BpfProgramSpec> programs)
    {
        var sec = elf.Find(".maps");
        if (sec is null)
            return;
        foreach (var rs in elf.Sections.Where(r => r.Type is ElfSection.SHT_REL or ElfSection.SHT_RELA && r.Info == sec.Index))
        {
            foreach (var rel in elf.Relocations(rs))
            {
                var sym = elf.Symbols[rel.SymbolIndex];
                var entry = btfMapLayouts.FirstOrDefault(kv => rel.Offset >= kv.Value.Offset && rel.Offset < kv.Value.Offset + kv.Value.Size);
                if (entry.Value.Def is null)
                    throw new BpfObjectException($"elf: {rs.Name}: relocation at offset {rel.Offset} is not inside any map definition");
                var map = maps[entry.Key];
                var values = entry.Value.Def.Members.LastOrDefault();
                if (values.Name != "values")
                    throw new BpfObjectException($"map '{map.Name}': relocation at offset {rel.Offset} but the map has no 'values' member");
                var valuesOff = (ulong)entry.Value.Offset + (values.Offset(entry.Value.Def.KindFlag) / 8);
                if (rel.Offset < valuesOff || (rel.Offset - valuesOff) % 8 != 0)
                    throw new BpfObjectException($"map '{map.Name}': invalid relo offset {rel.Offset} for 'values' at {valuesOff}");
                var slot = (int)((rel.Offset - valuesOff) / 8);
                if (map.Type != Maps.BpfMapType.ProgArray)
                    throw new BpfObjectException($"map '{map.Name}': should be map-in-map or prog-array (static initialisation of {map.TypeName} is not supported)");
                if (sym.Kind != ElfSymbol.STT_FUNC)
                    throw new BpfObjectException($"map '{map.Name}' slot [{slot}]: relo against '{sym.Name}' which is not a function");
                var prog = programs.FirstOrDefault(p => p.Name == sym.Name)
                    ?? throw new BpfObjectException($"map '{map.Name}' slot [{slot}]: can't find program '{sym.Name}'");
                if ((uint)slot >= map.MaxEntries)
                    throw new BpfObjectException($"map '{map.Name}': slot [{slot}] beyond max_entries {map.MaxEntries}");
                var init = new Dictionary<int, string>(map.InitialPrograms) { [slot] = prog.Name };
                maps[entry.Key] = map with { InitialPrograms = init };
            }
        }
    }
}
