namespace Kernel.Sim.Bpf.Elf.Btf;

/// <summary>BTF_KIND_*, numbered as include/uapi/linux/btf.h.</summary>
public enum BtfKind : byte
{
    Unknown = 0,
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
}

/// <summary>A struct/union member, a FUNC_PROTO parameter or an enumerator (Type unused for enumerators).</summary>
public readonly record struct BtfMember(string Name, int Type, uint BitOffset, long Value)
{
    /// <summary>For a struct with kind_flag set, the bitfield size is the top 8 bits of the offset word.</summary>
    public uint BitfieldSize(bool kindFlag) => kindFlag ? BitOffset >> 24 : 0;

    /// <summary>The member's bit offset without a bitfield size.</summary>
    public uint Offset(bool kindFlag) => kindFlag ? BitOffset & 0xffffff : BitOffset;
}

/// <summary>A btf_var_secinfo entry of a DATASEC: the VAR's type id, its offset and size in the section.</summary>
public readonly record struct BtfVarSecInfo(int Type, uint Offset, uint Size);

/// <summary>
/// One BTF type. <see cref="SizeOrType"/> is the size for INT/STRUCT/UNION/ENUM/DATASEC/FLOAT/ENUM64 and the
/// referenced type id for PTR/TYPEDEF/modifiers/FUNC/FUNC_PROTO (return type)/VAR/DECL_TAG/TYPE_TAG.
/// </summary>
public sealed class BtfType
{
    internal BtfType(int id, BtfKind kind, string name, int vlen, bool kindFlag, uint sizeOrType)
    {
        Id = id;
        Kind = kind;
        Name = name;
        Vlen = vlen;
        KindFlag = kindFlag;
        SizeOrType = sizeOrType;
    }

    public int Id { get; }

    public BtfKind Kind { get; }

    public string Name { get; }

    public int Vlen { get; }

    public bool KindFlag { get; }

    public uint SizeOrType { get; }

    /// <summary>Members (STRUCT/UNION), parameters (FUNC_PROTO) or enumerators (ENUM/ENUM64).</summary>
    public IReadOnlyList<BtfMember> Members { get; internal init; } = [];

    /// <summary>DATASEC entries.</summary>
    public IReadOnlyList<BtfVarSecInfo> Vars { get; internal init; } = [];

    /// <summary>ARRAY: element type, index type, number of elements.</summary>
    public (int ElemType, int IndexType, uint Nelems) Array { get; internal init; }

    /// <summary>INT: the encoding word (BTF_INT_ENCODING &lt;&lt; 24 | offset &lt;&lt; 16 | bits); VAR: linkage; DECL_TAG: component_idx.</summary>
    public uint Extra { get; internal init; }

    /// <summary>The referenced type id for kinds that reference one.</summary>
    public int RefType => (int)SizeOrType;

    /// <summary>FUNC: BTF_FUNC_STATIC (0), GLOBAL (1) or EXTERN (2), kept in vlen.</summary>
    public int FuncLinkage => Vlen;

    public override string ToString() => $"[{Id}] {BtfTypes.KindName(Kind)} '{Name}'";
}
