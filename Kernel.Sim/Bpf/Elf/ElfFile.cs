using System.Buffers.Binary;
using System.Text;

namespace Kernel.Sim.Bpf.Elf;

/// <summary>One section header of an ELF64 file.</summary>
public sealed record ElfSection(int Index, string Name, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize)
{
    public const uint SHT_NULL = 0, SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_RELA = 4, SHT_NOBITS = 8, SHT_REL = 9;
    public const ulong SHF_WRITE = 1, SHF_ALLOC = 2, SHF_EXECINSTR = 4;

    public bool IsExecutable => Type == SHT_PROGBITS && (Flags & SHF_EXECINSTR) != 0;
}

/// <summary>One Elf64_Sym.</summary>
public sealed record ElfSymbol(int Index, string Name, byte Info, byte Other, ushort SectionIndex, ulong Value, ulong Size)
{
    public const byte STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2;
    public const byte STT_NOTYPE = 0, STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3, STT_FILE = 4;
    public const ushort SHN_UNDEF = 0, SHN_ABS = 0xfff1, SHN_COMMON = 0xfff2;

    public byte Bind => (byte)(Info >> 4);

    public byte Kind => (byte)(Info & 0xf);

    /// <summary>STV_* in the low two bits of st_other (STV_HIDDEN = 2).</summary>
    public byte Visibility => (byte)(Other & 3);
}

/// <summary>One Elf64_Rel or Elf64_Rela entry (Addend 0 for REL: the implicit addend is in the patched bytes).</summary>
public readonly record struct ElfRelocation(ulong Offset, int SymbolIndex, uint Type, long Addend);

/// <summary>
/// A bounds-checked reader of the parts of a little-endian ELF64 relocatable object that BPF objects use:
/// section headers and names, the symbol table, REL/RELA tables. Every offset and size read from the file is
/// checked against the file before use, so a corrupt header is a <see cref="BpfObjectException"/>, never an
/// out-of-range read or a huge allocation.
/// </summary>
public sealed class ElfFile
{
    public const ushort EM_BPF = 247;
    public const ushort ET_REL = 1;
    public const uint R_BPF_NONE = 0, R_BPF_64_64 = 1, R_BPF_64_ABS64 = 2, R_BPF_64_ABS32 = 3, R_BPF_64_NODYLD32 = 4, R_BPF_64_32 = 10;

    private readonly byte[] data;

    private ElfFile(byte[] data, ElfSection[] sections, ElfSymbol[] symbols, int symtabIndex)
    {
        this.data = data;
        Sections = sections;
        Symbols = symbols;
        SymbolTableIndex = symtabIndex;
    }

    public IReadOnlyList<ElfSection> Sections { get; }

    /// <summary>The symbol table (index 0 is the null symbol), empty when the object has none.</summary>
    public IReadOnlyList<ElfSymbol> Symbols { get; }

    public int SymbolTableIndex { get; }

    /// <summary>Parses <paramref name="data"/>; throws <see cref="BpfObjectException"/> on anything malformed.</summary>
    public static ElfFile Parse(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length < 64 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
            throw new BpfObjectException("elf: not an ELF file (bad magic or shorter than the 64-byte header)");
        if (data[4] != 2)
            throw new BpfObjectException("elf: not a 64-bit object (EI_CLASS " + data[4] + ")");
        if (data[5] != 1)
            throw new BpfObjectException("elf: endianness mismatch: only little-endian BPF objects are supported (EI_DATA " + data[5] + ")");
        var span = data.AsSpan();
        var type = BinaryPrimitives.ReadUInt16LittleEndian(span[16..]);
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(span[18..]);
        if (type != ET_REL)
            throw new BpfObjectException($"elf: not a relocatable object (e_type {type})");
        if (machine != EM_BPF)
            throw new BpfObjectException($"elf: not a BPF object (e_machine {machine}, expected {EM_BPF})");
        var shoff = BinaryPrimitives.ReadUInt64LittleEndian(span[40..]);
        var shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[58..]);
        var shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[60..]);
        var shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(span[62..]);
        if (shnum == 0)
            throw new BpfObjectException("elf: no section headers (e_shnum 0)");
        if (shentsize != 64)
            throw new BpfObjectException($"elf: bad section header size e_shentsize {shentsize} (expected 64)");
        if (!Fits(data, shoff, (ulong)shnum * 64))
            throw new BpfObjectException($"elf: section headers (e_shoff {shoff}, {shnum} entries) lie outside the {data.Length}-byte file");
        if (shstrndx >= shnum)
            throw new BpfObjectException($"elf: section name table index e_shstrndx {shstrndx} out of range ({shnum} sections)");

        var raw = new (uint Name, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link, uint Info, ulong EntSize)[shnum];
        for (var i = 0; i < shnum; i++)
        {
            var h = span.Slice((int)shoff + (i * 64), 64);
            raw[i] = (BinaryPrimitives.ReadUInt32LittleEndian(h), BinaryPrimitives.ReadUInt32LittleEndian(h[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[8..]), BinaryPrimitives.ReadUInt64LittleEndian(h[24..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[32..]), BinaryPrimitives.ReadUInt32LittleEndian(h[40..]),
                BinaryPrimitives.ReadUInt32LittleEndian(h[44..]), BinaryPrimitives.ReadUInt64LittleEndian(h[56..]));
            if (i != 0 && raw[i].Type != ElfSection.SHT_NOBITS && raw[i].Type != ElfSection.SHT_NULL && !Fits(data, raw[i].Offset, raw[i].Size))
                throw new BpfObjectException($"elf: section #{i}: contents (offset {raw[i].Offset}, size {raw[i].Size}) lie outside the {data.Length}-byte file");
        }

        var shstr = raw[shstrndx];
        if (shstr.Type != ElfSection.SHT_STRTAB)
            throw new BpfObjectException($"elf: section name table #{shstrndx} is not SHT_STRTAB (type {shstr.Type})");
        var sections = new ElfSection[shnum];
        for (var i = 0; i < shnum; i++)
        {
            var name = i == 0 ? "" : ReadString(data, shstr.Offset, shstr.Size, raw[i].Name, $"section #{i} name");
            sections[i] = new ElfSection(i, name, raw[i].Type, raw[i].Flags, raw[i].Offset, raw[i].Size, raw[i].Link, raw[i].Info, raw[i].EntSize);
        }

        var symtab = Array.FindIndex(sections, s => s.Type == ElfSection.SHT_SYMTAB);
        var symbols = symtab < 0 ? [] : ReadSymbols(data, sections, sections[symtab]);
        return new ElfFile(data, sections, symbols, symtab);
    }

    /// <summary>The bytes of <paramref name="section"/> (empty for SHT_NOBITS).</summary>
    public ReadOnlySpan<byte> Contents(ElfSection section) =>
        section.Type is ElfSection.SHT_NOBITS or ElfSection.SHT_NULL ? default : data.AsSpan((int)section.Offset, (int)section.Size);

    /// <summary>The section named <paramref name="name"/>, or null.</summary>
    public ElfSection? Find(string name)
    {
        foreach (var s in Sections)
        {
            if (s.Name == name)
                return s;
        }

        return null;
    }

    /// <summary>The entries of a SHT_REL or SHT_RELA section, symbol indices checked against the symbol table.</summary>
    public ElfRelocation[] Relocations(ElfSection section)
    {
        var rela = section.Type == ElfSection.SHT_RELA;
        if (!rela && section.Type != ElfSection.SHT_REL)
            throw new BpfObjectException($"elf: section {section.Name}: not a relocation section (type {section.Type})");
        var entSize = rela ? 24 : 16;
        if (section.Size % (ulong)entSize != 0)
            throw new BpfObjectException($"elf: relocation section {section.Name}: size {section.Size} is not a multiple of {entSize}");
        if (section.Link != SymbolTableIndex || SymbolTableIndex < 0)
            throw new BpfObjectException($"elf: relocation section {section.Name}: sh_link {section.Link} does not name the symbol table");
        var bytes = Contents(section);
        var result = new ElfRelocation[bytes.Length / entSize];
        for (var i = 0; i < result.Length; i++)
        {
            var e = bytes.Slice(i * entSize, entSize);
            var info = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
            var sym = info >> 32;
            if (sym >= (ulong)Symbols.Count)
                throw new BpfObjectException($"elf: relocation section {section.Name}: relo #{i}: bad symbol index {sym} ({Symbols.Count} symbols)");
            result[i] = new ElfRelocation(BinaryPrimitives.ReadUInt64LittleEndian(e), (int)sym, (uint)info,
                rela ? BinaryPrimitives.ReadInt64LittleEndian(e[16..]) : 0);
        }

        return result;
    }

    private static ElfSymbol[] ReadSymbols(byte[] data, ElfSection[] sections, ElfSection symtab)
    {
        if (symtab.Size % 24 != 0)
            throw new BpfObjectException($"elf: symbol table {symtab.Name}: size {symtab.Size} is not a multiple of 24");
        if (symtab.Link == 0 || symtab.Link >= sections.Length || sections[symtab.Link].Type != ElfSection.SHT_STRTAB)
            throw new BpfObjectException($"elf: symbol table {symtab.Name}: sh_link {symtab.Link} is not a string table");
        var strtab = sections[symtab.Link];
        var count = (int)(symtab.Size / 24);
        var result = new ElfSymbol[count];
        var span = data.AsSpan((int)symtab.Offset, (int)symtab.Size);
        for (var i = 0; i < count; i++)
        {
            var e = span.Slice(i * 24, 24);
            var nameOff = BinaryPrimitives.ReadUInt32LittleEndian(e);
            var shndx = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]);
            var name = ReadString(data, strtab.Offset, strtab.Size, nameOff, $"symbol #{i} name");
            if (shndx >= sections.Length && shndx < 0xff00)
                throw new BpfObjectException($"elf: symbol #{i} '{name}': section index {shndx} out of range ({sections.Length} sections)");
            result[i] = new ElfSymbol(i, name, e[4], e[5], shndx, BinaryPrimitives.ReadUInt64LittleEndian(e[8..]), BinaryPrimitives.ReadUInt64LittleEndian(e[16..]));
        }

        return result;
    }

    private static bool Fits(byte[] data, ulong offset, ulong size) => offset <= (ulong)data.Length && size <= (ulong)data.Length - offset;

    internal static string ReadString(byte[] data, ulong tableOffset, ulong tableSize, uint offset, string what)
    {
        if (offset >= tableSize)
            throw new BpfObjectException($"elf: {what}: string offset {offset} outside the {tableSize}-byte string table");
        var table = data.AsSpan((int)tableOffset, (int)tableSize)[(int)offset..];
        var end = table.IndexOf((byte)0);
        if (end < 0)
            throw new BpfObjectException($"elf: {what}: string at offset {offset} is not NUL-terminated");
        return Encoding.UTF8.GetString(table[..end]);
    }
}
