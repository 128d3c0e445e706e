using System.Runtime.CompilerServices;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>
/// The kernel's scalar range arithmetic (kernel/bpf/verifier.c): keeping tnum and the four ranges in step
/// (<c>reg_bounds_sync</c>), the bounds of every ALU result (<c>adjust_scalar_min_max_vals</c>), what a
/// conditional jump teaches each outcome (<c>regs_refine_cond_op</c>) and whether its outcome is already
/// decided (<c>is_scalar_branch_taken</c>). Every rule over-approximates: a concrete value of an operand
/// always yields a concrete result inside the computed abstract result (the property tests check this).
/// </summary>
[SkipLocalsInit] // see Verifier: register-state temporaries need no zeroing
public static class ScalarBounds
{
    /// <summary>Tightens the ranges from the tnum, each view from the others, and the tnum from the ranges.</summary>
    public static void Sync(ref RegState reg)
    {
        // A known value whose ranges all contain it: the full sequence below would set every range to it and
        // change nothing else, so do just that. (Ranges that exclude it go the long way: they must come out invalid.)
        if (reg.VarOff.IsConst && ContainsConst(reg, reg.VarOff.Value))
        {
            var v = reg.VarOff.Value;
            reg.SMin = reg.SMax = (long)v;
            reg.UMin = reg.UMax = v;
            reg.S32Min = reg.S32Max = (int)(uint)v;
            reg.U32Min = reg.U32Max = (uint)v;
            return;
        }

        UpdateBounds(ref reg);
        DeduceBounds(ref reg);
        DeduceBounds(ref reg);
        BoundOffset(ref reg);
        UpdateBounds(ref reg);
    }

    private static bool ContainsConst(in RegState r, ulong v) =>
        r.SMin <= (long)v && (long)v <= r.SMax && r.UMin <= v && v <= r.UMax &&
        r.S32Min <= (int)(uint)v && (int)(uint)v <= r.S32Max && r.U32Min <= (uint)v && (uint)v <= r.U32Max;

    /// <summary>__update_reg_bounds: ranges from the known bits.</summary>
    public static void UpdateBounds(ref RegState reg)
    {
        var v = reg.VarOff;
        reg.SMin = Math.Max(reg.SMin, (long)(v.Value | (v.Mask & 0x8000_0000_0000_0000UL)));
        reg.SMax = Math.Min(reg.SMax, (long)(v.Value | (v.Mask & 0x7fff_ffff_ffff_ffffUL)));
        reg.UMin = Math.Max(reg.UMin, v.Value);
        reg.UMax = Math.Min(reg.UMax, v.Value | v.Mask);
        var s = v.Subreg;
        reg.S32Min = Math.Max(reg.S32Min, (int)(uint)(s.Value | (s.Mask & 0x8000_0000UL)));
        reg.S32Max = Math.Min(reg.S32Max, (int)(uint)(s.Value | (s.Mask & 0x7fff_ffffUL)));
        reg.U32Min = Math.Max(reg.U32Min, (uint)s.Value);
        reg.U32Max = Math.Min(reg.U32Max, (uint)(s.Value | s.Mask));
    }

    /// <summary>__reg_deduce_bounds: 32-bit from 64-bit, 64-bit signed/unsigned from each other, then 64 from 32.</summary>
    public static void DeduceBounds(ref RegState reg)
    {
        Deduce32(ref reg);
        Deduce64(ref reg);
        DeduceMixed(ref reg);
    }

    private static void Deduce32(ref RegState r)
    {
        // The upper halves of the 64-bit range agree: its low halves bound the subregister.
        if ((r.UMin >> 32) == (r.UMax >> 32))
        {
            r.U32Min = Math.Max(r.U32Min, (uint)r.UMin);
            r.U32Max = Math.Min(r.U32Max, (uint)r.UMax);
            if ((int)(uint)r.UMin <= (int)(uint)r.UMax)
            {
                r.S32Min = Math.Max(r.S32Min, (int)(uint)r.UMin);
                r.S32Max = Math.Min(r.S32Max, (int)(uint)r.UMax);
            }
        }

        if ((r.SMin >> 32) == (r.SMax >> 32))
        {
            if ((uint)r.SMin <= (uint)r.SMax)
            {
                r.U32Min = Math.Max(r.U32Min, (uint)r.SMin);
                r.U32Max = Math.Min(r.U32Max, (uint)r.SMax);
            }

            if ((int)r.SMin <= (int)r.SMax)
            {
                r.S32Min = Math.Max(r.S32Min, (int)r.SMin);
                r.S32Max = Math.Min(r.S32Max, (int)r.SMax);
            }
        }

        // Upper halves are two consecutive numbers and the low halves cross from negative to positive.
        if ((uint)(r.UMin >> 32) + 1 == (uint)(r.UMax >> 32) && (int)(uint)r.UMin < 0 && (int)(uint)r.UMax >= 0)
        {
            r.S32Min = Math.Max(r.S32Min, (int)(uint)r.UMin);
            r.S32Max = Math.Min(r.S32Max, (int)(uint)r.UMax);
        }

        if ((uint)(r.SMin >> 32) + 1 == (uint)(r.SMax >> 32) && (int)r.SMin < 0 && (int)r.SMax >= 0)
        {
            r.S32Min = Math.Max(r.S32Min, (int)r.SMin);
            r.S32Max = Math.Min(r.S32Max, (int)r.SMax);
        }

        if ((int)r.U32Min <= (int)r.U32Max)
        {
            r.S32Min = Math.Max(r.S32Min, (int)r.U32Min);
            r.S32Max = Math.Min(r.S32Max, (int)r.U32Max);
        }

        if ((uint)r.S32Min <= (uint)r.S32Max)
        {
            r.U32Min = Math.Max((uint)r.S32Min, r.U32Min);
            r.U32Max = Math.Min((uint)r.S32Max, r.U32Max);
        }
    }

    private static void Deduce64(ref RegState r)
    {
        if ((long)r.UMin <= (long)r.UMax)
        {
            r.SMin = Math.Max(r.SMin, (long)r.UMin);
            r.SMax = Math.Min(r.SMax, (long)r.UMax);
        }

        if ((ulong)r.SMin <= (ulong)r.SMax)
        {
            r.UMin = Math.Max((ulong)r.SMin, r.UMin);
            r.UMax = Math.Min((ulong)r.SMax, r.UMax);
        }
    }

    private static void DeduceMixed(ref RegState r)
    {
        // The low half of any value lies in the u32 range: splice it into the 64-bit bounds.
        var newUMin = (r.UMin & ~0xffff_ffffUL) | r.U32Min;
        var newUMax = (r.UMax & ~0xffff_ffffUL) | r.U32Max;
        r.UMin = Math.Max(r.UMin, newUMin);
        r.UMax = Math.Min(r.UMax, newUMax);
        var newSMin = (long)(((ulong)r.SMin & ~0xffff_ffffUL) | r.U32Min);
        var newSMax = (long)(((ulong)r.SMax & ~0xffff_ffffUL) | r.U32Max);
        r.SMin = Math.Max(r.SMin, newSMin);
        r.SMax = Math.Min(r.SMax, newSMax);

        // A 64-bit value inside the s32 range equals its sign-extended low half; non-negative halves pin it.
        if (r.S32Min >= 0 && r.SMin >= int.MinValue && r.SMax <= int.MaxValue)
        {
            r.SMin = r.S32Min;
            r.SMax = r.S32Max;
            r.UMin = (ulong)r.S32Min;
            r.UMax = (ulong)r.S32Max;
            r.VarOff = r.VarOff.Intersect(Tnum.Range((ulong)r.SMin, (ulong)r.SMax));
        }
    }

    /// <summary>__reg_bound_offset: the tnum from the unsigned ranges.</summary>
    public static void BoundOffset(ref RegState r)
    {
        var var64 = r.VarOff.Intersect(Tnum.Range(r.UMin, r.UMax));
        var var32 = var64.Subreg.Intersect(Tnum.Range(r.U32Min, r.U32Max));
        r.VarOff = var64.WithSubreg(var32);
    }

    /// <summary>zext_32_to_64: a 32-bit result is zero-extended into the whole register.</summary>
    public static void ZeroExtend32(ref RegState r)
    {
        r.VarOff = r.VarOff.Subreg;
        r.UMin = r.U32Min;
        r.UMax = r.U32Max;
        if (r.S32Min >= 0 && r.S32Max >= 0)
        {
            r.SMin = r.S32Min;
            r.SMax = r.S32Max;
        }
        else
        {
            r.SMin = 0;
            r.SMax = uint.MaxValue;
        }
    }

    /// <summary>
    /// dst = dst OP src for two scalars (adjust_scalar_min_max_vals). <paramref name="alu32"/> selects the
    /// BPF_ALU class (the result is zero-extended). Operations whose range the kernel does not compute
    /// (div, mod, variable shifts) give an unknown scalar, as in Linux.
    /// </summary>
    public static void Alu(ref RegState dst, in RegState src, byte op, bool alu32)
    {
        var bitness = alu32 ? 32 : 64;
        var srcConst = alu32 ? src.IsConst32 : src.IsConst;
        var srcShift = alu32 ? (ulong)src.U32Max : src.UMax;
        var safe = op switch
        {
            BPF_ADD or BPF_SUB or BPF_NEG or BPF_AND or BPF_OR or BPF_XOR or BPF_MUL => true,
            BPF_LSH or BPF_RSH or BPF_ARSH => srcConst && srcShift < (ulong)bitness,
            _ => false,
        };
        if (!safe || (!srcConst && src.BoundsInvalid))
        {
            dst.MarkUnknown();
            if (alu32)
                ZeroExtend32(ref dst);
            Sync(ref dst);
            return;
        }

        switch (op)
        {
            case BPF_ADD:
                Add32(ref dst, src);
                Add64(ref dst, src);
                dst.VarOff += src.VarOff;
                break;
            case BPF_SUB:
                Sub32(ref dst, src);
                Sub64(ref dst, src);
                dst.VarOff -= src.VarOff;
                break;
            case BPF_NEG:
                {
                    var zero = RegState.Known(0);
                    Sub32(ref zero, dst);
                    Sub64(ref zero, dst);
                    zero.VarOff -= dst.VarOff;
                    zero.Written = dst.Written;
                    dst = zero;
                    break;
                }

            case BPF_MUL:
                dst.VarOff *= src.VarOff;
                Mul32(ref dst, src);
                Mul64(ref dst, src);
                break;
            case BPF_AND:
                dst.VarOff &= src.VarOff;
                And32(ref dst, src);
                And64(ref dst, src);
                break;
            case BPF_OR:
                dst.VarOff |= src.VarOff;
                Or32(ref dst, src);
                Or64(ref dst, src);
                break;
            case BPF_XOR:
                dst.VarOff ^= src.VarOff;
                Xor32(ref dst, src);
                Xor64(ref dst, src);
                break;
            case BPF_LSH:
                if (alu32)
                    Lsh32(ref dst, (int)src.U32Max);
                else
                    Lsh64(ref dst, (int)src.UMax);
                break;
            case BPF_RSH:
                if (alu32)
                    Rsh32(ref dst, (int)src.U32Max);
                else
                    Rsh64(ref dst, (int)src.UMax);
                break;
            case BPF_ARSH:
                if (alu32)
                    Arsh32(ref dst, (int)src.U32Max);
                else
                    Arsh64(ref dst, (int)src.UMax);
                break;
        }

        if (alu32)
            ZeroExtend32(ref dst);
        Sync(ref dst);
    }

    private static void Add32(ref RegState d, in RegState s)
    {
        long smin = (long)d.S32Min + s.S32Min, smax = (long)d.S32Max + s.S32Max;
        if (smin < int.MinValue || smin > int.MaxValue || smax < int.MinValue || smax > int.MaxValue)
        {
            d.S32Min = int.MinValue;
            d.S32Max = int.MaxValue;
        }
        else
        {
            d.S32Min = (int)smin;
            d.S32Max = (int)smax;
        }

        ulong umin = (ulong)d.U32Min + s.U32Min, umax = (ulong)d.U32Max + s.U32Max;
        if (umax > uint.MaxValue)
        {
            d.U32Min = 0;
            d.U32Max = uint.MaxValue;
        }
        else
        {
            d.U32Min = (uint)umin;
            d.U32Max = (uint)umax;
        }
    }

    private static void Add64(ref RegState d, in RegState s)
    {
        var smin = d.SMin + s.SMin;
        var smax = d.SMax + s.SMax;
        var overflowMin = ((d.SMin ^ smin) & (s.SMin ^ smin)) < 0;
        var overflowMax = ((d.SMax ^ smax) & (s.SMax ^ smax)) < 0;
        if (overflowMin || overflowMax)
        {
            d.SMin = long.MinValue;
            d.SMax = long.MaxValue;
        }
        else
        {
            d.SMin = smin;
            d.SMax = smax;
        }

        var umin = d.UMin + s.UMin;
        var umax = d.UMax + s.UMax;
        if (umin < d.UMin || umax < d.UMax)
        {
            d.UMin = 0;
            d.UMax = ulong.MaxValue;
        }
        else
        {
            d.UMin = umin;
            d.UMax = umax;
        }
    }

    private static void Sub32(ref RegState d, in RegState s)
    {
        long smin = (long)d.S32Min - s.S32Max, smax = (long)d.S32Max - s.S32Min;
        if (smin < int.MinValue || smin > int.MaxValue || smax < int.MinValue || smax > int.MaxValue)
        {
            d.S32Min = int.MinValue;
            d.S32Max = int.MaxValue;
        }
        else
        {
            d.S32Min = (int)smin;
            d.S32Max = (int)smax;
        }

        if (d.U32Min < s.U32Max)
        {
            d.U32Min = 0;
            d.U32Max = uint.MaxValue;
        }
        else
        {
            d.U32Min -= s.U32Max;
            d.U32Max -= s.U32Min;
        }
    }

    private static void Sub64(ref RegState d, in RegState s)
    {
        var smin = d.SMin - s.SMax;
        var smax = d.SMax - s.SMin;
        var overflowMin = ((d.SMin ^ s.SMax) & (d.SMin ^ smin)) < 0;
        var overflowMax = ((d.SMax ^ s.SMin) & (d.SMax ^ smax)) < 0;
        if (overflowMin || overflowMax)
        {
            d.SMin = long.MinValue;
            d.SMax = long.MaxValue;
        }
        else
        {
            d.SMin = smin;
            d.SMax = smax;
        }

        if (d.UMin < s.UMax)
        {
            d.UMin = 0;
            d.UMax = ulong.MaxValue;
        }
        else
        {
            d.UMin -= s.UMax;
            d.UMax -= s.UMin;
        }
    }

    private static void Mul32(ref RegState d, in RegState s)
    {
        if (d.S32Min < 0 || s.S32Min < 0 || d.U32Max > ushort.MaxValue || s.U32Max > ushort.MaxValue)
        {
            d.SetUnbounded32();
            return;
        }

        d.U32Min *= s.U32Min;
        d.U32Max *= s.U32Max;
        if (d.U32Max > int.MaxValue)
        {
            d.S32Min = int.MinValue;
            d.S32Max = int.MaxValue;
        }
        else
        {
            d.S32Min = (int)d.U32Min;
            d.S32Max = (int)d.U32Max;
        }
    }

    private static void Mul64(ref RegState d, in RegState s)
    {
        if (d.SMin < 0 || s.SMin < 0 || d.UMax > uint.MaxValue || s.UMax > uint.MaxValue)
        {
            d.SetUnbounded64();
            return;
        }

        d.UMin *= s.UMin;
        d.UMax *= s.UMax;
        if (d.UMax > long.MaxValue)
        {
            d.SMin = long.MinValue;
            d.SMax = long.MaxValue;
        }
        else
        {
            d.SMin = (long)d.UMin;
            d.SMax = (long)d.UMax;
        }
    }

    private static void SignFromUnsigned32(ref RegState d)
    {
        if ((int)d.U32Min <= (int)d.U32Max)
        {
            d.S32Min = (int)d.U32Min;
            d.S32Max = (int)d.U32Max;
        }
        else
        {
            d.S32Min = int.MinValue;
            d.S32Max = int.MaxValue;
        }
    }

    private static void SignFromUnsigned64(ref RegState d)
    {
        if ((long)d.UMin <= (long)d.UMax)
        {
            d.SMin = (long)d.UMin;
            d.SMax = (long)d.UMax;
        }
        else
        {
            d.SMin = long.MinValue;
            d.SMax = long.MaxValue;
        }
    }

    private static void And32(ref RegState d, in RegState s)
    {
        var v = d.VarOff.Subreg;
        if (s.IsConst32 && v.IsConst)
        {
            d.SetKnown32((uint)v.Value);
            return;
        }

        d.U32Min = (uint)v.Value;
        d.U32Max = Math.Min(d.U32Max, s.U32Max);
        SignFromUnsigned32(ref d);
    }

    private static void And64(ref RegState d, in RegState s)
    {
        if (s.IsConst && d.VarOff.IsConst)
        {
            d.SetKnown(d.VarOff.Value);
            return;
        }

        d.UMin = d.VarOff.Value;
        d.UMax = Math.Min(d.UMax, s.UMax);
        SignFromUnsigned64(ref d);
    }

    private static void Or32(ref RegState d, in RegState s)
    {
        var v = d.VarOff.Subreg;
        if (s.IsConst32 && v.IsConst)
        {
            d.SetKnown32((uint)v.Value);
            return;
        }

        d.U32Min = Math.Max(d.U32Min, s.U32Min);
        d.U32Max = (uint)(v.Value | v.Mask);
        SignFromUnsigned32(ref d);
    }

    private static void Or64(ref RegState d, in RegState s)
    {
        if (s.IsConst && d.VarOff.IsConst)
        {
            d.SetKnown(d.VarOff.Value);
            return;
        }

        d.UMin = Math.Max(d.UMin, s.UMin);
        d.UMax = d.VarOff.Value | d.VarOff.Mask;
        SignFromUnsigned64(ref d);
    }

    private static void Xor32(ref RegState d, in RegState s)
    {
        var v = d.VarOff.Subreg;
        if (s.IsConst32 && v.IsConst)
        {
            d.SetKnown32((uint)v.Value);
            return;
        }

        d.U32Min = (uint)v.Value;
        d.U32Max = (uint)(v.Value | v.Mask);
        SignFromUnsigned32(ref d);
    }

    private static void Xor64(ref RegState d, in RegState s)
    {
        if (s.IsConst && d.VarOff.IsConst)
        {
            d.SetKnown(d.VarOff.Value);
            return;
        }

        d.UMin = d.VarOff.Value;
        d.UMax = d.VarOff.Value | d.VarOff.Mask;
        SignFromUnsigned64(ref d);
    }

    private static void Lsh32(ref RegState d, int shift)
    {
        d.S32Min = int.MinValue;
        d.S32Max = int.MaxValue;
        if (d.U32Max > (1UL << (31 - shift)))
        {
            d.U32Min = 0;
            d.U32Max = uint.MaxValue;
        }
        else
        {
            d.U32Min <<= shift;
            d.U32Max <<= shift;
        }

        d.VarOff = d.VarOff.Subreg.LShift(shift).Subreg;
        d.SetUnbounded64();
        UpdateBounds(ref d);
    }

    private static void Lsh64(ref RegState d, int shift)
    {
        d.SMin = long.MinValue;
        d.SMax = long.MaxValue;
        if (d.UMax > (1UL << (63 - shift)))
        {
            d.UMin = 0;
            d.UMax = ulong.MaxValue;
        }
        else
        {
            d.UMin <<= shift;
            d.UMax <<= shift;
        }

        d.VarOff = d.VarOff.LShift(shift);
        d.SetUnbounded32();
        UpdateBounds(ref d);
    }

    private static void Rsh32(ref RegState d, int shift)
    {
        d.S32Min = int.MinValue;
        d.S32Max = int.MaxValue;
        d.U32Min >>= shift;
        d.U32Max >>= shift;
        d.VarOff = d.VarOff.Subreg.RShift(shift);
        d.SetUnbounded64();
        UpdateBounds(ref d);
    }

    private static void Rsh64(ref RegState d, int shift)
    {
        d.SMin = long.MinValue;
        d.SMax = long.MaxValue;
        d.UMin >>= shift;
        d.UMax >>= shift;
        d.VarOff = d.VarOff.RShift(shift);
        d.SetUnbounded32();
        UpdateBounds(ref d);
    }

    private static void Arsh32(ref RegState d, int shift)
    {
        d.S32Min >>= shift;
        d.S32Max >>= shift;
        d.VarOff = d.VarOff.ARShift(shift, 32);
        d.U32Min = 0;
        d.U32Max = uint.MaxValue;
        d.SetUnbounded64();
        UpdateBounds(ref d);
    }

    private static void Arsh64(ref RegState d, int shift)
    {
        d.SMin >>= shift;
        d.SMax >>= shift;
        d.VarOff = d.VarOff.ARShift(shift, 64);
        d.UMin = 0;
        d.UMax = ulong.MaxValue;
        d.SetUnbounded32();
        UpdateBounds(ref d);
    }

    /// <summary>The opcode of the other outcome (rev_opcode); BPF_JSET's false side is encoded as JSET|X.</summary>
    public static byte Reverse(byte op) => op switch
    {
        BPF_JEQ => BPF_JNE,
        BPF_JNE => BPF_JEQ,
        BPF_JSET => BPF_JSET | BPF_X,
        BPF_JSET | BPF_X => BPF_JSET,
        BPF_JGT => BPF_JLE,
        BPF_JLE => BPF_JGT,
        BPF_JGE => BPF_JLT,
        BPF_JLT => BPF_JGE,
        BPF_JSGT => BPF_JSLE,
        BPF_JSLE => BPF_JSGT,
        BPF_JSGE => BPF_JSLT,
        BPF_JSLT => BPF_JSGE,
        _ => op,
    };

    /// <summary>The opcode with its operands swapped (flip_opcode): a &gt; b is b &lt; a.</summary>
    public static byte Flip(byte op) => op switch
    {
        BPF_JGT => BPF_JLT,
        BPF_JLT => BPF_JGT,
        BPF_JGE => BPF_JLE,
        BPF_JLE => BPF_JGE,
        BPF_JSGT => BPF_JSLT,
        BPF_JSLT => BPF_JSGT,
        BPF_JSGE => BPF_JSLE,
        BPF_JSLE => BPF_JSGE,
        _ => op,
    };

    /// <summary>
    /// is_scalar_branch_taken: 1 when the jump is always taken, 0 when never, -1 when both outcomes are possible.
    /// </summary>
    public static int BranchTaken(in RegState r1, in RegState r2, byte op, bool jmp32)
    {
        var t1 = jmp32 ? r1.VarOff.Subreg : r1.VarOff;
        var t2 = jmp32 ? r2.VarOff.Subreg : r2.VarOff;
        ulong umin1 = jmp32 ? r1.U32Min : r1.UMin, umax1 = jmp32 ? r1.U32Max : r1.UMax;
        ulong umin2 = jmp32 ? r2.U32Min : r2.UMin, umax2 = jmp32 ? r2.U32Max : r2.UMax;
        long smin1 = jmp32 ? r1.S32Min : r1.SMin, smax1 = jmp32 ? r1.S32Max : r1.SMax;
        long smin2 = jmp32 ? r2.S32Min : r2.SMin, smax2 = jmp32 ? r2.S32Max : r2.SMax;
        switch (op)
        {
            case BPF_JEQ:
            case BPF_JNE:
                {
                    var eq = op == BPF_JEQ ? 1 : 0;
                    if (t1.IsConst && t2.IsConst)
                        return t1.Value == t2.Value ? eq : 1 - eq;
                    if (umin1 > umax2 || umax1 < umin2 || smin1 > smax2 || smax1 < smin2)
                        return 1 - eq;
                    if (!jmp32 && (r1.U32Min > r2.U32Max || r1.U32Max < r2.U32Min || r1.S32Min > r2.S32Max || r1.S32Max < r2.S32Min))
                        return 1 - eq;
                    // Known bits that differ also decide it.
                    if (((t1.Value ^ t2.Value) & ~(t1.Mask | t2.Mask)) != 0)
                        return 1 - eq;
                    return -1;
                }

            case BPF_JSET:
                if (!t2.IsConst)
                    (t1, t2) = (t2, t1);
                if (!t2.IsConst)
                    return -1;
                if ((~t1.Mask & t1.Value & t2.Value) != 0)
                    return 1;
                if (((t1.Mask | t1.Value) & t2.Value) == 0)
                    return 0;
                return -1;
            case BPF_JGT:
                return umin1 > umax2 ? 1 : umax1 <= umin2 ? 0 : -1;
            case BPF_JSGT:
                return smin1 > smax2 ? 1 : smax1 <= smin2 ? 0 : -1;
            case BPF_JLT:
                return umax1 < umin2 ? 1 : umin1 >= umax2 ? 0 : -1;
            case BPF_JSLT:
                return smax1 < smin2 ? 1 : smin1 >= smax2 ? 0 : -1;
            case BPF_JGE:
                return umin1 >= umax2 ? 1 : umax1 < umin2 ? 0 : -1;
            case BPF_JSGE:
                return smin1 >= smax2 ? 1 : smax1 < smin2 ? 0 : -1;
            case BPF_JLE:
                return umax1 <= umin2 ? 1 : umin1 > umax2 ? 0 : -1;
            case BPF_JSLE:
                return smax1 <= smin2 ? 1 : smin1 > smax2 ? 0 : -1;
            default:
                return -1;
        }
    }

    /// <summary>
    /// regs_refine_cond_op: narrows both operands to the values for which <c>r1 op r2</c> holds. Only called
    /// for an outcome <see cref="BranchTaken"/> left possible. Follow with <see cref="Sync"/> on both.
    /// </summary>
    public static void RefineCondition(ref RegState r1, ref RegState r2, byte op, bool jmp32)
    {
        switch (op)
        {
            case BPF_JEQ:
                if (jmp32)
                {
                    r1.U32Min = r2.U32Min = Math.Max(r1.U32Min, r2.U32Min);
                    r1.U32Max = r2.U32Max = Math.Min(r1.U32Max, r2.U32Max);
                    r1.S32Min = r2.S32Min = Math.Max(r1.S32Min, r2.S32Min);
                    r1.S32Max = r2.S32Max = Math.Min(r1.S32Max, r2.S32Max);
                    var t = r1.VarOff.Subreg.Intersect(r2.VarOff.Subreg);
                    r1.VarOff = r1.VarOff.WithSubreg(t);
                    r2.VarOff = r2.VarOff.WithSubreg(t);
                }
                else
                {
                    r1.UMin = r2.UMin = Math.Max(r1.UMin, r2.UMin);
                    r1.UMax = r2.UMax = Math.Min(r1.UMax, r2.UMax);
                    r1.SMin = r2.SMin = Math.Max(r1.SMin, r2.SMin);
                    r1.SMax = r2.SMax = Math.Min(r1.SMax, r2.SMax);
                    r1.VarOff = r2.VarOff = r1.VarOff.Intersect(r2.VarOff);
                }

                break;
            case BPF_JNE:
                {
                    if (!(jmp32 ? r2.IsConst32 : r2.IsConst))
                    {
                        if (jmp32 ? r1.IsConst32 : r1.IsConst)
                            RefineNotEqual(ref r2, r1, jmp32);
                        break;
                    }

                    RefineNotEqual(ref r1, r2, jmp32);
                    break;
                }

            case BPF_JSET:
                {
                    ref var other = ref r2;
                    ref var self = ref r1;
                    if (!(jmp32 ? r2.IsConst32 : r2.IsConst))
                    {
                        self = ref r2;
                        other = ref r1;
                    }

                    if (!(jmp32 ? other.IsConst32 : other.IsConst))
                        break;
                    var val = jmp32 ? other.VarOff.Value & 0xffff_ffffUL : other.VarOff.Value;
                    if (val == 0 || (val & (val - 1)) != 0)
                        break;
                    self.VarOff = jmp32 ? self.VarOff.WithSubreg(self.VarOff.Subreg | Tnum.Const(val)) : self.VarOff | Tnum.Const(val);
                    break;
                }

            case BPF_JSET | BPF_X:
                {
                    ref var other = ref r2;
                    ref var self = ref r1;
                    if (!(jmp32 ? r2.IsConst32 : r2.IsConst))
                    {
                        self = ref r2;
                        other = ref r1;
                    }

                    if (!(jmp32 ? other.IsConst32 : other.IsConst))
                        break;
                    var val = jmp32 ? other.VarOff.Value & 0xffff_ffffUL : other.VarOff.Value;
                    // Forget the ranges first: narrowing only the tnum must not leave them contradicting it.
                    if (jmp32)
                    {
                        self.VarOff = self.VarOff.WithSubreg(self.VarOff.Subreg & Tnum.Const(~val));
                        self.SetUnbounded32();
                    }
                    else
                    {
                        self.VarOff &= Tnum.Const(~val);
                        self.SetUnbounded();
                    }

                    break;
                }

            case BPF_JLE or BPF_JLT:
            {
                // r1 <= r2 (r1 < r2: one tighter on each side).
                var strict = op == BPF_JLT ? 1u : 0u;
                if (jmp32)
                {
                    r1.U32Max = Math.Min(r1.U32Max, r2.U32Max - strict);
                    r2.U32Min = Math.Max(r1.U32Min + strict, r2.U32Min);
                }
                else
                {
                    r1.UMax = Math.Min(r1.UMax, r2.UMax - strict);
                    r2.UMin = Math.Max(r1.UMin + strict, r2.UMin);
                }

                break;
            }

            case BPF_JSLE or BPF_JSLT:
            {
                var strict = op == BPF_JSLT ? 1 : 0;
                if (jmp32)
                {
                    r1.S32Max = Math.Min(r1.S32Max, r2.S32Max - strict);
                    r2.S32Min = Math.Max(r1.S32Min + strict, r2.S32Min);
                }
                else
                {
                    r1.SMax = Math.Min(r1.SMax, r2.SMax - strict);
                    r2.SMin = Math.Max(r1.SMin + strict, r2.SMin);
                }

                break;
            }

            case BPF_JGE or BPF_JGT or BPF_JSGE or BPF_JSGT:
                RefineCondition(ref r2, ref r1, Flip(op), jmp32);
                break;
        }
    }

    private static void RefineNotEqual(ref RegState r1, in RegState r2, bool jmp32)
    {
        var val = r2.VarOff.Value;
        if (jmp32)
        {
            if (r1.U32Min == (uint)val)
                r1.U32Min++;
            if (r1.U32Max == (uint)val)
                r1.U32Max--;
            if (r1.S32Min == (int)(uint)val)
                r1.S32Min++;
            if (r1.S32Max == (int)(uint)val)
                r1.S32Max--;
        }
        else
        {
            if (r1.UMin == val)
                r1.UMin++;
            if (r1.UMax == val)
                r1.UMax--;
            if (r1.SMin == (long)val)
                r1.SMin++;
            if (r1.SMax == (long)val)
                r1.SMax--;
        }
    }
}
