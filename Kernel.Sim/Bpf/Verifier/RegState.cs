namespace Kernel.Sim.Bpf.Verifier;

/// <summary>
/// The abstract value of one register, as struct bpf_reg_state: a type, a fixed offset <see cref="Off"/>
/// (pointers), the variable part <see cref="VarOff"/> with its 64- and 32-bit signed and unsigned bounds
/// (scalars, and the variable offset of pointers), an <see cref="Id"/> shared by copies (so a null check or
/// a range check refines every copy), the proven packet <see cref="Range"/>, the size of a PTR_TO_MEM
/// region, the map a map pointer refers to and the frame a stack pointer points into.
/// A value type: copying a state copies its registers.
/// </summary>
public struct RegState : IEquatable<RegState>
{
    public RegType Type;

    /// <summary>Written since the last checkpoint (log only). Declared beside the one-byte type so the state packs into 96 bytes, not 104: it is copied on every branch.</summary>
    public bool Written;

    public int Off;
    public Tnum VarOff;
    public long SMin;
    public long SMax;
    public ulong UMin;
    public ulong UMax;
    public int S32Min;
    public int S32Max;
    public uint U32Min;
    public uint U32Max;
    public int Id;

    /// <summary>Packet pointers: bytes proven accessible from the packet start plus <see cref="Off"/>.</summary>
    public int Range;

    /// <summary>PTR_TO_MEM(_OR_NULL): the region's size in bytes.</summary>
    public int MemSize;

    /// <summary>Map pointers and map values: index into the verifier's map table.</summary>
    public int MapIndex;

    /// <summary>PTR_TO_STACK: the frame whose stack this points into.</summary>
    public int FrameNo;

    /// <summary>The reference (acquired by a helper such as bpf_ringbuf_reserve) this pointer carries; 0 for none.</summary>
    public int RefObjId;


    // Built once: these are copied on nearly every instruction, and building them field by field was a visible cost.
    private static readonly RegState NotInitValue = MakeNotInit();
    private static readonly RegState UnknownScalarValue = NotInitValue with { Type = RegType.Scalar };

    /// <summary>An uninitialised register (__mark_reg_not_init).</summary>
    public static RegState NotInit => NotInitValue;

    /// <summary>An unknown scalar (__mark_reg_unknown).</summary>
    public static RegState UnknownScalar => UnknownScalarValue;

    /// <summary>A known scalar (__mark_reg_known).</summary>
    public static RegState Known(ulong value)
    {
        var r = UnknownScalarValue;
        r.SetKnown(value);
        return r;
    }

    private static RegState MakeNotInit()
    {
        var r = default(RegState);
        r.SetUnbounded();
        r.VarOff = Tnum.Unknown;
        r.Type = RegType.NotInit;
        r.MapIndex = -1;
        return r;
    }

    /// <summary>A pointer of the given type with a zero, known offset.</summary>
    public static RegState Pointer(RegType type)
    {
        var r = Known(0);
        r.Type = type;
        return r;
    }

    public readonly bool IsScalar => Type == RegType.Scalar;

    public readonly bool IsPointer => RegTypeNames.IsPointer(Type);

    /// <summary>True for a scalar or pointer whose variable part is a single value.</summary>
    public readonly bool IsConst => VarOff.IsConst;

    public readonly bool IsConst32 => VarOff.Subreg.IsConst;

    /// <summary>Sets a known 64-bit value with all bounds matching it.</summary>
    public void SetKnown(ulong value)
    {
        VarOff = Tnum.Const(value);
        SMin = SMax = (long)value;
        UMin = UMax = value;
        S32Min = S32Max = (int)(uint)value;
        U32Min = U32Max = (uint)value;
    }

    /// <summary>Sets a known low half, leaving the 64-bit view to the caller (__mark_reg32_known).</summary>
    public void SetKnown32(uint value)
    {
        VarOff = VarOff.WithSubreg(Tnum.Const(value));
        S32Min = S32Max = (int)value;
        U32Min = U32Max = value;
    }

    public void SetUnbounded()
    {
        SetUnbounded64();
        SetUnbounded32();
    }

    public void SetUnbounded64()
    {
        SMin = long.MinValue;
        SMax = long.MaxValue;
        UMin = 0;
        UMax = ulong.MaxValue;
    }

    public void SetUnbounded32()
    {
        S32Min = int.MinValue;
        S32Max = int.MaxValue;
        U32Min = 0;
        U32Max = uint.MaxValue;
    }

    /// <summary>Turns the register into an unknown scalar.</summary>
    public void MarkUnknown()
    {
        var written = Written;
        this = UnknownScalar;
        Written = written;
    }

    /// <summary>True when some bound contradicts another (the path is impossible).</summary>
    public readonly bool BoundsInvalid =>
        SMin > SMax || UMin > UMax || S32Min > S32Max || U32Min > U32Max;

    public readonly bool Equals(RegState other) =>
        Type == other.Type && Off == other.Off && VarOff == other.VarOff && SMin == other.SMin && SMax == other.SMax &&
        UMin == other.UMin && UMax == other.UMax && S32Min == other.S32Min && S32Max == other.S32Max &&
        U32Min == other.U32Min && U32Max == other.U32Max && Id == other.Id && Range == other.Range &&
        MemSize == other.MemSize && MapIndex == other.MapIndex && FrameNo == other.FrameNo && RefObjId == other.RefObjId;

    public override readonly bool Equals(object? obj) => obj is RegState other && Equals(other);

    public override readonly int GetHashCode() => HashCode.Combine(Type, Off, VarOff, SMin, UMax, Id, Range);

    public static bool operator ==(RegState left, RegState right) => left.Equals(right);

    public static bool operator !=(RegState left, RegState right) => !left.Equals(right);
}
