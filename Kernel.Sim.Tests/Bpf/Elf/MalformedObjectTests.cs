using System.Buffers.Binary;
using Kernel.Sim.Bpf.Elf;
using static Kernel.Sim.Tests.Bpf.Elf.ElfTestImages;

namespace Kernel.Sim.Tests.Bpf.Elf;

/// <summary>Broken objects: each is rejected with a <see cref="BpfObjectException"/> naming the place and the reason.</summary>
public sealed class MalformedObjectTests
{
    public sealed record Case(string Name, Func<byte[]> Build, string Message)
    {
        public override string ToString() => Name;
    }

    private static byte[] Obj(string file) => ElfFixtures.Bytes(file);

    private static int Header(byte[] d, string section) => SectionHeaderOffset(d, ElfFile.Parse(d).Find(section)!.Index);

    private static int RelEntry(byte[] d, string relSection, int entry) => (int)ElfFile.Parse(d).Find(relSection)!.Offset + (entry * 16);

    /// <summary>File offset of the first BTF type record of <paramref name="kind"/> (walking records by their kind's size).</summary>
    private static int BtfType(byte[] d, int kind, bool anonymous = false)
    {
        var btf = (int)ElfFile.Parse(d).Find(".BTF")!.Offset;
        var pos = btf + (int)BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(btf + 4)) + (int)BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(btf + 8));
        while (true)
        {
            var info = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(pos + 4));
            var k = (int)((info >> 24) & 0x1f);
            if (k == kind && (!anonymous || BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(pos)) == 0))
                return pos;
            var vlen = (int)(info & 0xffff);
            pos += 12 + k switch { 1 or 14 or 17 => 4, 3 => 12, 4 or 5 or 15 or 19 => 12 * vlen, 6 or 13 => 8 * vlen, _ => 0 };
        }
    }

    private static IEnumerable<Case> Cases()
    {
        yield return new("truncated header", () => Obj("array_counter.o")[..10], "not an ELF file");
        yield return new("truncated body", () => Obj("array_counter.o")[..1000], "lie outside the 1000-byte file");
        yield return new("bad magic", () => Patch32(Obj("array_counter.o"), 0, 0x464c457e), "bad magic");
        yield return new("32-bit class", () => { var d = Obj("array_counter.o"); d[4] = 1; return d; }, "not a 64-bit object");
        yield return new("x86-64 machine", () => { var d = Obj("array_counter.o"); d[18] = 62; return d; }, "not a BPF object (e_machine 62");
        yield return new("shstrndx out of range", () => { var d = Obj("array_counter.o"); d[62] = 0xff; d[63] = 0x7f; return d; }, "e_shstrndx 32767 out of range");
        yield return new("section headers past the end", () => Patch64(Obj("array_counter.o"), 40, 0xfffffff0), "section headers (e_shoff 4294967280");
        yield return new("section contents past the end", () => { var d = Obj("array_counter.o"); return Patch64(d, Header(d, "kprobe/ip_rcv") + 24, 1 << 30); }, "lie outside");
        yield return new("program section not a multiple of 8", () => { var d = Obj("array_counter.o"); return Patch64(d, Header(d, "kprobe/ip_rcv") + 32, 203); }, "corrupted program section 'kprobe/ip_rcv'");
        yield return new("function symbol past its section", () =>
        {
            var d = Obj("array_counter.o");
            var elf = ElfFile.Parse(d);
            var sym = elf.Symbols.Single(s => s.Name == "count_ip_rcv");
            return Patch64(d, (int)elf.Sections[elf.SymbolTableIndex].Offset + (sym.Index * 24) + 16, 4096);
        }, "corrupted program 'count_ip_rcv'");
        yield return new("relocation symbol index", () => { var d = Obj("array_counter.o"); return Patch32(d, RelEntry(d, ".relkprobe/ip_rcv", 0) + 12, 9999); }, "bad symbol index 9999");
        yield return new("relocation offset", () => { var d = Obj("array_counter.o"); return Patch64(d, RelEntry(d, ".relkprobe/ip_rcv", 0), 0x10000); }, "bad insn offset 65536 in section 'kprobe/ip_rcv'");
        yield return new("relocation type", () => { var d = Obj("array_counter.o"); return Patch32(d, RelEntry(d, ".relkprobe/ip_rcv", 0) + 8, 77); }, "unknown relocation type 77");
        yield return new("relocation on a non-lddw", () => { var d = Obj("array_counter.o"); return Patch64(d, RelEntry(d, ".relkprobe/ip_rcv", 0), 0); }, "invalid relo for insns[0].code 0xbf");
        yield return new("relocation sh_link", () => { var d = Obj("array_counter.o"); return Patch32(d, Header(d, ".relkprobe/ip_rcv") + 40, 1); }, "sh_link 1 does not name the symbol table");
        yield return new("relocation sh_info", () => { var d = Obj("array_counter.o"); return Patch32(d, Header(d, ".relkprobe/ip_rcv") + 44, 500); }, "sh_info 500 out of range");
        yield return new("unknown legacy map type", () => { var d = Obj("legacy_maps28.o"); return Patch32(d, (int)ElfFile.Parse(d).Find("maps")!.Offset, 99); }, "map 'legacy_array': unknown map type 99");
        yield return new("legacy map record size", () => { var d = Obj("legacy_maps28.o"); return Patch64(d, Header(d, "maps") + 32, 55); }, "2 maps in 55 bytes");
        yield return new("BTF magic", () => { var d = Obj("array_counter.o"); return Patch32(d, (int)ElfFile.Parse(d).Find(".BTF")!.Offset, 0x0001eb9e); }, "btf: invalid magic 0xeb9e");
        yield return new("BTF string section length", () => { var d = Obj("array_counter.o"); return Patch32(d, (int)ElfFile.Parse(d).Find(".BTF")!.Offset + 20, 0x7fffffff); }, "past the end");
        yield return new("BTF type id", () => { var d = Obj("array_counter.o"); return Patch32(d, BtfType(d, 2) + 8, 99999); }, "refers to type [99999] out of range");
        yield return new("BTF string offset", () => { var d = Obj("array_counter.o"); return Patch32(d, BtfType(d, 4), 0xffffff); }, "string offset 16777215 outside");
        yield return new("BTF kind", () => { var d = Obj("array_counter.o"); return Patch32(d, BtfType(d, 2) + 4, 31u << 24); }, "invalid kind 31");
        yield return new("BTF map type not a pointer", () =>
        {
            // counters' definition is the anonymous struct; its first member ("type") points at a PTR: make it void.
            var d = Obj("array_counter.o");
            var s = BtfType(d, 4, anonymous: true);
            return Patch32(d, s + 12 + 4, 0);
        }, "map 'counters': attr 'type': expected PTR, got");
    }

    [TestCaseSource(nameof(Cases))]
    public void IsRejectedWithANamedReason(Case c)
    {
        var data = c.Build();
        Assert.That(() => BpfObject.Load(data, "broken"), Throws.TypeOf<BpfObjectException>().With.Message.Contains(c.Message));
    }
}
