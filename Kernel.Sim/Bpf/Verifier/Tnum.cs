using System.Numerics;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>
/// A tristate number as kernel/bpf/tnum.c defines it: each bit is known 0, known 1 or unknown. A bit is
/// unknown when it is set in <see cref="Mask"/>; known bits take their value from <see cref="Value"/>.
/// Invariant: <c>Value &amp; Mask == 0</c>. The operations are the kernel's, so bounds agree bit for bit.
/// </summary>
public readonly record struct Tnum(ulong Value, ulong Mask)
{
    /// <summary>Every bit unknown.</summary>
    public static readonly Tnum Unknown = new(0, ulong.MaxValue);

    /// <summary>A fully known value.</summary>
    public static Tnum Const(ulong value) => new(value, 0);

    /// <summary>The smallest tnum containing every value in [min, max] (tnum_range).</summary>
    public static Tnum Range(ulong min, ulong max)
    {
        var chi = min ^ max;
        var bits = chi == 0 ? 0 : 64 - BitOperations.LeadingZeroCount(chi);
        if (bits > 63)
            return Unknown;
        var delta = (1UL << bits) - 1;
        return new Tnum(min & ~delta, delta);
    }

    public bool IsConst => Mask == 0;

    public bool IsUnknown => Mask == ulong.MaxValue;

    /// <summary>True when the low <paramref name="size"/>-aligned bits are all known zero (tnum_is_aligned).</summary>
    public bool IsAligned(ulong size) => size == 0 || ((Value | Mask) & (size - 1)) == 0;

    /// <summary>True when every value of <paramref name="b"/> is a value of this tnum (tnum_in).</summary>
    public bool Contains(Tnum b)
    {
        if ((b.Mask & ~Mask) != 0)
            return false;
        return Value == (b.Value & ~Mask);
    }

    public Tnum LShift(int shift) => new(Value << shift, Mask << shift);

    public Tnum RShift(int shift) => new(Value >> shift, Mask >> shift);

    /// <summary>Arithmetic right shift; with <paramref name="bits"/> 32 it shifts the sign-extended low half and zero-extends the result.</summary>
    public Tnum ARShift(int shift, int bits) => bits == 32
        ? new((uint)((int)(uint)Value >> shift), (uint)((int)(uint)Mask >> shift))
        : new((ulong)((long)Value >> shift), (ulong)((long)Mask >> shift));

    public static Tnum operator +(Tnum a, Tnum b)
    {
        var sm = a.Mask + b.Mask;
        var sv = a.Value + b.Value;
        var sigma = sm + sv;
        var chi = sigma ^ sv;
        var mu = chi | a.Mask | b.Mask;
        return new Tnum(sv & ~mu, mu);
    }

    public static Tnum operator -(Tnum a, Tnum b)
    {
        var dv = a.Value - b.Value;
        var alpha = dv + a.Mask;
        var beta = dv - b.Mask;
        var chi = alpha ^ beta;
        var mu = chi | a.Mask | b.Mask;
        return new Tnum(dv & ~mu, mu);
    }

    public static Tnum operator &(Tnum a, Tnum b)
    {
        var alpha = a.Value | a.Mask;
        var beta = b.Value | b.Mask;
        var v = a.Value & b.Value;
        return new Tnum(v, alpha & beta & ~v);
    }

    public static Tnum operator |(Tnum a, Tnum b)
    {
        var v = a.Value | b.Value;
        var mu = a.Mask | b.Mask;
        return new Tnum(v, mu & ~v);
    }

    public static Tnum operator ^(Tnum a, Tnum b)
    {
        var v = a.Value ^ b.Value;
        var mu = a.Mask | b.Mask;
        return new Tnum(v & ~mu, mu);
    }

    /// <summary>Multiplication as tnum_mul: the known product plus a sum of partial products of uncertain bits.</summary>
    public static Tnum operator *(Tnum a, Tnum b)
    {
        var accV = a.Value * b.Value;
        var accM = new Tnum(0, 0);
        while (a.Value != 0 || a.Mask != 0)
        {
            if ((a.Value & 1) != 0)
                accM += new Tnum(0, b.Mask);
            else if ((a.Mask & 1) != 0)
                accM += new Tnum(0, b.Value | b.Mask);
            a = a.RShift(1);
            b = b.LShift(1);
        }

        return Const(accV) + accM;
    }

    /// <summary>Both a and b hold: the bits known in either (tnum_intersect).</summary>
    public Tnum Intersect(Tnum b)
    {
        var v = Value | b.Value;
        var mu = Mask & b.Mask;
        return new Tnum(v & ~mu, mu);
    }

    /// <summary>Truncates to <paramref name="size"/> bytes (tnum_cast).</summary>
    public Tnum Cast(int size)
    {
        var m = size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        return new Tnum(Value & m, Mask & m);
    }

    /// <summary>The low 32 bits (tnum_subreg).</summary>
    public Tnum Subreg => Cast(4);

    /// <summary>The high 32 bits with the low half known zero (tnum_clear_subreg).</summary>
    public Tnum ClearSubreg => RShift(32).LShift(32);

    /// <summary>This tnum's high half with <paramref name="subreg"/>'s low half (tnum_with_subreg).</summary>
    public Tnum WithSubreg(Tnum subreg) => ClearSubreg | subreg.Subreg;

    /// <summary>The kernel's print form: <c>(0x0; 0xff)</c>.</summary>
    public override string ToString() => $"(0x{Value:x}; 0x{Mask:x})";
}
