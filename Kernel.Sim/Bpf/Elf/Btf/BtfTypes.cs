using System.Buffers.Binary;
using System.Text;

namespace Kernel.Sim.Bpf.Elf.Btf;

/// <summary>
/// A parsed .BTF section: the header, every type (ids from 1; 0 is void) and the string section. Every type id
/// a type refers to and every name offset is checked at parse time, so walking the graph afterwards cannot go
/// out of range; cycles are caught by the depth limit of <see cref="ResolveSize"/> as libbpf's btf__resolve_size does.
/// </summary>
public sealed class BtfTypes
{
    public const ushort Magic = 0xeB9F;
    private const int MaxResolveDepth = 32;

    private readonly byte[] strings;
    private readonly List<BtfType> types;

    private BtfTypes(byte[] strings, List<BtfType> types)
    {
        this.strings = strings;
        this.types = types;
    }

    /// <summary>Number of type ids including void (0).</summary>
    public int Count => types.Count;

    public BtfType this[int id] => id >= 0 && id < types.Count
        ? types[id]
        : throw new BpfObjectException($"btf: type [{id}] out of range (have {types.Count - 1} types)");

    /// <summary>The string at <paramref name="offset"/> of the string section.</summary>
    public string String(uint offset)
    {
        if (offset >= strings.Length)
            throw new BpfObjectException($"btf: string offset {offset} outside the {strings.Length}-byte string section");
        var s = strings.AsSpan((int)offset);
        var end = s.IndexOf((byte)0);
        if (end < 0)
            throw new BpfObjectException($"btf: string at offset {offset} is not NUL-terminated");
        return Encoding.UTF8.GetString(s[..end]);
    }

    /// <summary>The type named <paramref name="name"/> of kind <paramref name="kind"/>, or null.</summary>
    public BtfType? Find(string name, BtfKind kind)
    {
        foreach (var t in types)
        {
            if (t.Kind == kind && t.Name == name)
                return t;
        }

        return null;
    }

    public IEnumerable<BtfType> All => types.Skip(1);

    /// <summary>Parses a .BTF section.</summary>
    public static BtfTypes Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 24)
            throw new BpfObjectException($"btf: section too short for a header ({data.Length} bytes)");
        var magic = BinaryPrimitives.ReadUInt16LittleEndian(data);
        if (magic != Magic)
            throw new BpfObjectException($"btf: invalid magic 0x{magic:x4} (expected 0xeb9f; big-endian BTF is not supported)");
        if (data[2] != 1)
            throw new BpfObjectException($"btf: unsupported version {data[2]}");
        var hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        var typeOff = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        var typeLen = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        var strOff = BinaryPrimitives.ReadUInt32LittleEndian(data[16..]);
        var strLen = BinaryPrimitives.ReadUInt32LittleEndian(data[20..]);
        if (hdrLen < 24 || hdrLen > (uint)data.Length)
            throw new BpfObjectException($"btf: bad header length {hdrLen}");
        var body = data[(int)hdrLen..];
        if ((ulong)typeOff + typeLen > (ulong)body.Length || (ulong)strOff + strLen > (ulong)body.Length)
            throw new BpfObjectException($"btf: type section (off {typeOff}, len {typeLen}) or string section (off {strOff}, len {strLen}) past the end of {body.Length} bytes of data");
        if (typeOff % 4 != 0)
            throw new BpfObjectException($"btf: type section offset {typeOff} is not 4-byte aligned");
        if (strLen == 0 || body[(int)(strOff + strLen - 1)] != 0 || body[(int)strOff] != 0)
            throw new BpfObjectException("btf: string section must start and end with NUL");

        var result = new BtfTypes(body.Slice((int)strOff, (int)strLen).ToArray(), [new BtfType(0, BtfKind.Unknown, "void", 0, false, 0)]);
        var t = body.Slice((int)typeOff, (int)typeLen);
        var pos = 0;
        while (pos < t.Length)
            pos += result.ParseType(t, pos);
        result.Validate();
        return result;
    }

    private int ParseType(ReadOnlySpan<byte> t, int pos)
    {
        var id = types.Count;
        if (t.Length - pos < 12)
            throw new BpfObjectException($"btf: type [{id}]: truncated header at offset {pos}");
        var nameOff = BinaryPrimitives.ReadUInt32LittleEndian(t[pos..]);
        var info = BinaryPrimitives.ReadUInt32LittleEndian(t[(pos + 4)..]);
        var sizeOrType = BinaryPrimitives.ReadUInt32LittleEndian(t[(pos + 8)..]);
        var kind = (BtfKind)((info >> 24) & 0x1f);
        var vlen = (int)(info & 0xffff);
        var kflag = (info >> 31) != 0;
        var name = String(nameOff);
        var extraLen = kind switch
        {
            BtfKind.Int or BtfKind.Var or BtfKind.DeclTag => 4,
            BtfKind.Ptr or BtfKind.Fwd or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict
                or BtfKind.Func or BtfKind.Float or BtfKind.TypeTag => 0,
            BtfKind.Array => 12,
            BtfKind.Struct or BtfKind.Union or BtfKind.Datasec or BtfKind.Enum64 => 12 * vlen,
            BtfKind.Enum or BtfKind.FuncProto => 8 * vlen,
            _ => throw new BpfObjectException($"btf: type [{id}]: invalid kind {(int)kind}"),
        };
        pos += 12;
        if (t.Length - pos < extraLen)
            throw new BpfObjectException($"btf: type [{id}] {KindName(kind)} '{name}': {extraLen} bytes of data past the end of the type section");
        var x = t.Slice(pos, extraLen);
        var members = new List<BtfMember>();
        var vars = new List<BtfVarSecInfo>();
        (int, int, uint) array = default;
        uint extra = 0;
        switch (kind)
        {
            case BtfKind.Int or BtfKind.Var or BtfKind.DeclTag:
                extra = BinaryPrimitives.ReadUInt32LittleEndian(x);
                break;
            case BtfKind.Array:
                array = ((int)BinaryPrimitives.ReadUInt32LittleEndian(x), (int)BinaryPrimitives.ReadUInt32LittleEndian(x[4..]), BinaryPrimitives.ReadUInt32LittleEndian(x[8..]));
                break;
            case BtfKind.Struct or BtfKind.Union:
                for (var i = 0; i < vlen; i++)
                    members.Add(new BtfMember(String(BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 12)..])), (int)BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 12 + 4)..]), BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 12 + 8)..]), 0));
                break;
            case BtfKind.Enum:
                for (var i = 0; i < vlen; i++)
                    members.Add(new BtfMember(String(BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 8)..])), 0, 0, kflag ? BinaryPrimitives.ReadInt32LittleEndian(x[(i * 8 + 4)..]) : BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 8 + 4)..])));
                break;
            case BtfKind.Enum64:
                for (var i = 0; i < vlen; i++)
                    members.Add(new BtfMember(String(BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 12)..])), 0, 0, (long)(BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 12 + 4)..]) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 12 + 8)..]) << 32))));
                break;
            case BtfKind.FuncProto:
                for (var i = 0; i < vlen; i++)
                    members.Add(new BtfMember(String(BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 8)..])), (int)BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 8 + 4)..]), 0, 0));
                break;
            case BtfKind.Datasec:
                for (var i = 0; i < vlen; i++)
                    vars.Add(new BtfVarSecInfo((int)BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 12)..]), BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 12 + 4)..]), BinaryPrimitives.ReadUInt32LittleEndian(x[(i * 12 + 8)..])));
                break;
        }

        types.Add(new BtfType(id, kind, name, vlen, kflag, sizeOrType) { Members = members, Vars = vars, Array = array, Extra = extra });
        return 12 + extraLen;
    }

    /// <summary>Every type id a type refers to must exist (libbpf's btf_sanity_check does the same).</summary>
    private void Validate()
    {
        foreach (var t in All)
        {
            switch (t.Kind)
            {
                case BtfKind.Ptr or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.Func
                    or BtfKind.FuncProto or BtfKind.Var or BtfKind.DeclTag or BtfKind.TypeTag:
                    CheckRef(t, t.RefType, "type");
                    break;
                case BtfKind.Array:
                    CheckRef(t, t.Array.ElemType, "element type");
                    CheckRef(t, t.Array.IndexType, "index type");
                    break;
            }

            foreach (var m in t.Members)
            {
                if (t.Kind is BtfKind.Struct or BtfKind.Union or BtfKind.FuncProto)
                    CheckRef(t, m.Type, $"member '{m.Name}'");
            }

            foreach (var v in t.Vars)
            {
                CheckRef(t, v.Type, "var");
                if (types[v.Type].Kind is not (BtfKind.Var or BtfKind.Func))
                    throw new BpfObjectException($"btf: {t}: entry type [{v.Type}] is {KindName(types[v.Type].Kind)}, not VAR");
            }

            if (t.Kind == BtfKind.Func && types[t.RefType].Kind != BtfKind.FuncProto)
                throw new BpfObjectException($"btf: {t}: type [{t.RefType}] is not FUNC_PROTO");
        }
    }

    private void CheckRef(BtfType t, int id, string what)
    {
        if (id < 0 || id >= types.Count)
            throw new BpfObjectException($"btf: {t}: {what} refers to type [{id}] out of range (have {types.Count - 1} types)");
    }

    /// <summary>Follows TYPEDEF/VOLATILE/CONST/RESTRICT/TYPE_TAG to the underlying type (depth-limited).</summary>
    public BtfType SkipModifiers(int id)
    {
        for (var depth = 0; depth < MaxResolveDepth; depth++)
        {
            var t = this[id];
            if (t.Kind is not (BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag))
                return t;
            id = t.RefType;
        }

        throw new BpfObjectException($"btf: type [{id}]: modifier chain too long or cyclic");
    }

    /// <summary>The size in bytes of type <paramref name="id"/>, as btf__resolve_size computes it.</summary>
    public long ResolveSize(int id)
    {
        long nelems = 1;
        for (var depth = 0; depth < MaxResolveDepth; depth++)
        {
            var t = this[id];
            switch (t.Kind)
            {
                case BtfKind.Int or BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Datasec or BtfKind.Float:
                    return nelems * t.SizeOrType;
                case BtfKind.Ptr:
                    return nelems * 8;
                case BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.Var or BtfKind.TypeTag:
                    id = t.RefType;
                    break;
                case BtfKind.Array:
                    nelems *= t.Array.Nelems;
                    if (nelems > uint.MaxValue)
                        throw new BpfObjectException($"btf: {t}: size overflows");
                    id = t.Array.ElemType;
                    break;
                default:
                    throw new BpfObjectException($"btf: {t}: has no size");
            }
        }

        throw new BpfObjectException($"btf: type [{id}]: type chain too long or cyclic");
    }

    public static string KindName(BtfKind kind) => kind switch
    {
        BtfKind.Unknown => "UNKN",
        BtfKind.FuncProto => "FUNC_PROTO",
        BtfKind.DeclTag => "DECL_TAG",
        BtfKind.TypeTag => "TYPE_TAG",
        _ => kind.ToString().ToUpperInvariant(),
    };
}
