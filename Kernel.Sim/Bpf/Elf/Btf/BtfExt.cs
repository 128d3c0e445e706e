using System.Buffers.Binary;

namespace Kernel.Sim.Bpf.Elf.Btf;

/// <summary>A bpf_func_info record: the instruction (index, not bytes) where function <see cref="TypeId"/> starts.</summary>
public readonly record struct BtfFuncInfo(int InsnIndex, int TypeId);

/// <summary>A bpf_line_info record with its strings resolved; line and column unpacked from line_col (line &lt;&lt; 10 | col).</summary>
public readonly record struct BtfLineInfo(int InsnIndex, string FileName, string Line, int LineNumber, int Column);

/// <summary>A bpf_core_relo record (parsed and reported, not applied).</summary>
public readonly record struct BtfCoreRelo(int InsnIndex, int TypeId, string AccessString, int Kind);

/// <summary>
/// A parsed .BTF.ext section: per ELF section, the func_info, line_info and CO-RE relocation records. The
/// instruction offsets in the file are bytes within the section; they are kept here as instruction indices.
/// </summary>
public sealed class BtfExt
{
    private BtfExt()
    {
    }

    public IReadOnlyDictionary<string, IReadOnlyList<BtfFuncInfo>> FuncInfo { get; private init; } = new Dictionary<string, IReadOnlyList<BtfFuncInfo>>();

    public IReadOnlyDictionary<string, IReadOnlyList<BtfLineInfo>> LineInfo { get; private init; } = new Dictionary<string, IReadOnlyList<BtfLineInfo>>();

    public IReadOnlyDictionary<string, IReadOnlyList<BtfCoreRelo>> CoreRelos { get; private init; } = new Dictionary<string, IReadOnlyList<BtfCoreRelo>>();

    /// <summary>Parses .BTF.ext; strings are in <paramref name="btf"/>'s string section.</summary>
    public static BtfExt Parse(ReadOnlySpan<byte> data, BtfTypes btf)
    {
        ArgumentNullException.ThrowIfNull(btf);
        if (data.Length < 24)
            throw new BpfObjectException($"btf.ext: section too short for a header ({data.Length} bytes)");
        if (BinaryPrimitives.ReadUInt16LittleEndian(data) != BtfTypes.Magic)
            throw new BpfObjectException("btf.ext: invalid magic");
        if (data[2] != 1)
            throw new BpfObjectException($"btf.ext: unsupported version {data[2]}");
        var hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (hdrLen < 24 || hdrLen > (uint)data.Length)
            throw new BpfObjectException($"btf.ext: bad header length {hdrLen}");
        var body = data[(int)hdrLen..];
        var func = ParseInfo(body, data[8..], "func_info", 8, btf, (r, _) => new BtfFuncInfo(Index(r), (int)BinaryPrimitives.ReadUInt32LittleEndian(r[4..])));
        var line = ParseInfo(body, data[16..], "line_info", 16, btf, (r, b) =>
        {
            var lineCol = BinaryPrimitives.ReadUInt32LittleEndian(r[12..]);
            return new BtfLineInfo(Index(r), b.String(BinaryPrimitives.ReadUInt32LittleEndian(r[4..])), b.String(BinaryPrimitives.ReadUInt32LittleEndian(r[8..])), (int)(lineCol >> 10), (int)(lineCol & 0x3ff));
        });
        var core = hdrLen >= 32
            ? ParseInfo(body, data[24..], "core_relo", 16, btf, (r, b) => new BtfCoreRelo(Index(r), (int)BinaryPrimitives.ReadUInt32LittleEndian(r[4..]), b.String(BinaryPrimitives.ReadUInt32LittleEndian(r[8..])), (int)BinaryPrimitives.ReadUInt32LittleEndian(r[12..])))
            : new Dictionary<string, IReadOnlyList<BtfCoreRelo>>();
        return new BtfExt { FuncInfo = func, LineInfo = line, CoreRelos = core };
    }

    private static int Index(ReadOnlySpan<byte> r) => (int)(BinaryPrimitives.ReadUInt32LittleEndian(r) / 8);

    private delegate T RecordReader<T>(ReadOnlySpan<byte> record, BtfTypes btf);

    private static Dictionary<string, IReadOnlyList<T>> ParseInfo<T>(ReadOnlySpan<byte> body, ReadOnlySpan<byte> offLen, string what, int minRecSize, BtfTypes btf, RecordReader<T> read)
    {
        var result = new Dictionary<string, IReadOnlyList<T>>(StringComparer.Ordinal);
        var off = BinaryPrimitives.ReadUInt32LittleEndian(offLen);
        var len = BinaryPrimitives.ReadUInt32LittleEndian(offLen[4..]);
        if (len == 0)
            return result;
        if ((ulong)off + len > (ulong)body.Length)
            throw new BpfObjectException($"btf.ext: {what} (off {off}, len {len}) past the end of {body.Length} bytes of data");
        var s = body.Slice((int)off, (int)len);
        if (s.Length < 4)
            throw new BpfObjectException($"btf.ext: {what}: no record size");
        var recSize = BinaryPrimitives.ReadUInt32LittleEndian(s);
        if (recSize < minRecSize || recSize > 256 || recSize % 4 != 0)
            throw new BpfObjectException($"btf.ext: {what}: bad record size {recSize}");
        var pos = 4;
        while (pos < s.Length)
        {
            if (s.Length - pos < 8)
                throw new BpfObjectException($"btf.ext: {what}: truncated section header at offset {pos}");
            var secName = btf.String(BinaryPrimitives.ReadUInt32LittleEndian(s[pos..]));
            var num = BinaryPrimitives.ReadUInt32LittleEndian(s[(pos + 4)..]);
            pos += 8;
            if (num == 0 || (ulong)num * recSize > (ulong)(s.Length - pos))
                throw new BpfObjectException($"btf.ext: {what}: section '{secName}': {num} records of {recSize} bytes do not fit");
            var list = new List<T>((int)num);
            for (var i = 0; i < num; i++)
                list.Add(read(s.Slice(pos + (i * (int)recSize), (int)recSize), btf));
            pos += (int)(num * recSize);
            result[secName] = list;
        }

        return result;
    }
}
