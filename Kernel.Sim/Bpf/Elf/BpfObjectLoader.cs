using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Kernel.Sim.Bpf.Elf.Btf;

namespace Kernel.Sim.Bpf.Elf;

/// <summary>
/// The work of <see cref="BpfObject.Load(byte[], string, BpfObjectOptions?)"/>, in libbpf's order: license and
/// version, BTF, maps (legacy, BTF-defined, global data), program discovery, relocation records, linking.
/// </summary>
internal sealed partial class BpfObjectLoader
{
    private readonly ElfFile elf;
    private readonly string objName;
    private readonly BpfObjectOptions options;
    private readonly List<BpfMapSpec> maps = [];
    private readonly List<string> warnings = [];

    // Map lookup for relocations: (section index, offset of the map's symbol in it) -> map index.
    private readonly Dictionary<(int Section, ulong Offset), int> mapBySymbol = [];

    // Global data section index -> map index.
    private readonly Dictionary<int, int> dataMapBySection = [];
    private BtfTypes? btf;
    private BtfExt? btfExt;

    public BpfObjectLoader(ElfFile elf, string objName, BpfObjectOptions options)
    {
        this.elf = elf;
        this.objName = objName;
        this.options = options;
    }

    public BpfObject Load()
    {
        var license = ReadLicense();
        var version = ReadVersion();
        ReadBtf();
        ReadLegacyMaps();
        ReadBtfMaps();
        ReadGlobalData();
        var programs = LoadPrograms();
        InitProgArrays(programs);
        return new BpfObject(objName, license, version, programs, maps, btf, btfExt, warnings);
    }

    private string ReadLicense()
    {
        var s = elf.Find("license");
        if (s is null)
            return "";
        var bytes = elf.Contents(s);
        var end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }

    private uint ReadVersion()
    {
        var s = elf.Find("version");
        if (s is null)
            return 0;
        var bytes = elf.Contents(s);
        if (bytes.Length != 4)
            throw new BpfObjectException($"elf: invalid kver section in {objName}: size {bytes.Length}, expected 4");
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    private void ReadBtf()
    {
        var s = elf.Find(".BTF");
        if (s is null)
            return;
        btf = BtfTypes.Parse(elf.Contents(s));
        var ext = elf.Find(".BTF.ext");
        if (ext is not null)
            btfExt = BtfExt.Parse(elf.Contents(ext), btf);
    }

    private static string Hex(int v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Symbols defined in section <paramref name="shndx"/>, excluding section and file symbols.</summary>
    private IEnumerable<ElfSymbol> SymbolsIn(int shndx) =>
        elf.Symbols.Where(s => s.Index != 0 && s.SectionIndex == shndx && s.Kind is not (ElfSymbol.STT_SECTION or ElfSymbol.STT_FILE));
}
