using Kernel.Sim.Bpf.Verifier;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tests.Bpf.Verifier;

/// <summary>
/// Soundness of the abstract domain: for random abstract operands and random concrete members of them,
/// the concrete result of every operation is a member of the abstract result.
/// </summary>
public sealed class TnumAndBoundsTests
{
    [Test]
    public void Tnum_known_examples_match_tnum_c()
    {
        Assert.That(Tnum.Range(0, 255), Is.EqualTo(new Tnum(0, 0xff)));
        Assert.That(Tnum.Range(4, 7), Is.EqualTo(new Tnum(4, 3)));
        Assert.That(Tnum.Const(3) + Tnum.Const(4), Is.EqualTo(Tnum.Const(7)));
        Assert.That(new Tnum(0, 1) + Tnum.Const(1), Is.EqualTo(new Tnum(0, 3)));
        Assert.That(new Tnum(0, 0xff) & Tnum.Const(0x0f), Is.EqualTo(new Tnum(0, 0x0f)));
        Assert.That(new Tnum(0, 0xff).ToString(), Is.EqualTo("(0x0; 0xff)"));
    }

    private static ulong RandomMember(Random rng, in RegState r)
    {
        // Members of the tnum, then filtered by the ranges.
        for (var attempt = 0; attempt < 64; attempt++)
        {
            var v = r.VarOff.Value | ((ulong)rng.NextInt64() & r.VarOff.Mask);
            if (attempt % 4 == 0)
                v = r.VarOff.Value | (r.VarOff.Mask & (attempt % 8 == 0 ? 0UL : ulong.MaxValue));
            if (Contains(r, v))
                return v;
        }

        return r.UMin;
    }

    private static bool Contains(in RegState r, ulong v) =>
        r.VarOff.Contains(Tnum.Const(v)) && v >= r.UMin && v <= r.UMax && (long)v >= r.SMin && (long)v <= r.SMax &&
        (uint)v >= r.U32Min && (uint)v <= r.U32Max && (int)(uint)v >= r.S32Min && (int)(uint)v <= r.S32Max;

    private static RegState RandomScalar(Random rng)
    {
        var r = RegState.UnknownScalar;
        switch (rng.Next(5))
        {
            case 0:
                return RegState.Known((ulong)rng.NextInt64(-1000, 1000));
            case 1:
                r.VarOff = new Tnum(0, (ulong)rng.Next(1, 1 << rng.Next(1, 20)));
                break;
            case 2:
                r.UMin = (ulong)rng.Next(0, 100);
                r.UMax = r.UMin + (ulong)rng.Next(0, 5000);
                break;
            case 3:
                r.SMin = rng.Next(-5000, 0);
                r.SMax = rng.Next(0, 5000);
                break;
            default:
                r.S32Min = rng.Next(-100, 100);
                r.S32Max = r.S32Min + rng.Next(0, 1000);
                break;
        }

        ScalarBounds.Sync(ref r);
        return r;
    }

    private static ulong Concrete(byte op, ulong a, ulong b, bool alu32)
    {
        if (alu32)
        {
            uint x = (uint)a, y = (uint)b;
            return op switch
            {
                BPF_ADD => x + y,
                BPF_SUB => x - y,
                BPF_MUL => x * y,
                BPF_AND => x & y,
                BPF_OR => x | y,
                BPF_XOR => x ^ y,
                BPF_LSH => x << (int)(y & 31),
                BPF_RSH => x >> (int)(y & 31),
                BPF_ARSH => (uint)((int)x >> (int)(y & 31)),
                BPF_NEG => (uint)-(int)x,
                _ => 0,
            };
        }

        return op switch
        {
            BPF_ADD => a + b,
            BPF_SUB => a - b,
            BPF_MUL => a * b,
            BPF_AND => a & b,
            BPF_OR => a | b,
            BPF_XOR => a ^ b,
            BPF_LSH => a << (int)(b & 63),
            BPF_RSH => a >> (int)(b & 63),
            BPF_ARSH => (ulong)((long)a >> (int)(b & 63)),
            BPF_NEG => (ulong)-(long)a,
            _ => 0,
        };
    }

    [TestCase(BPF_ADD)]
    [TestCase(BPF_SUB)]
    [TestCase(BPF_MUL)]
    [TestCase(BPF_AND)]
    [TestCase(BPF_OR)]
    [TestCase(BPF_XOR)]
    [TestCase(BPF_LSH)]
    [TestCase(BPF_RSH)]
    [TestCase(BPF_ARSH)]
    [TestCase(BPF_NEG)]
    public void Alu_results_contain_every_concrete_result(byte op)
    {
        var rng = new Random(op * 7919);
        for (var i = 0; i < 3000; i++)
        {
            var alu32 = (i & 1) == 1;
            var dst = RandomScalar(rng);
            var src = op is BPF_LSH or BPF_RSH or BPF_ARSH ? RegState.Known((ulong)rng.Next(0, alu32 ? 32 : 64)) : RandomScalar(rng);
            var a = RandomMember(rng, dst);
            var b = RandomMember(rng, src);
            var result = dst;
            ScalarBounds.Alu(ref result, src, op, alu32);
            var c = Concrete(op, a, b, alu32);
            Assert.That(Contains(result, c), Is.True,
                $"{op:x2} alu32={alu32}: {a:x} op {b:x} = {c:x} outside {StatePrinter.RegText(result, 0, [])} from {StatePrinter.RegText(dst, 0, [])}, {StatePrinter.RegText(src, 0, [])}");
        }
    }

    [TestCase(BPF_JEQ)]
    [TestCase(BPF_JNE)]
    [TestCase(BPF_JGT)]
    [TestCase(BPF_JGE)]
    [TestCase(BPF_JLT)]
    [TestCase(BPF_JLE)]
    [TestCase(BPF_JSGT)]
    [TestCase(BPF_JSGE)]
    [TestCase(BPF_JSLT)]
    [TestCase(BPF_JSLE)]
    [TestCase(BPF_JSET)]
    public void Branch_refinement_keeps_every_value_of_its_outcome(byte op)
    {
        var rng = new Random(op * 104729);
        for (var i = 0; i < 3000; i++)
        {
            var jmp32 = (i & 1) == 1;
            var r1 = RandomScalar(rng);
            var r2 = rng.Next(3) == 0 ? RandomScalar(rng) : RegState.Known((ulong)rng.Next(-50, 5000));
            var a = RandomMember(rng, r1);
            var b = RandomMember(rng, r2);
            var outcome = Holds(op, a, b, jmp32);
            var taken = ScalarBounds.BranchTaken(r1, r2, op, jmp32);
            Assert.That(taken == -1 || taken == (outcome ? 1 : 0), Is.True, $"branch decided {taken} but {a:x} {op:x2} {b:x} is {outcome}");
            if (taken != -1)
                continue;
            var x = r1;
            var y = r2;
            ScalarBounds.RefineCondition(ref x, ref y, outcome ? op : ScalarBounds.Reverse(op), jmp32);
            ScalarBounds.Sync(ref x);
            ScalarBounds.Sync(ref y);
            Assert.That(Contains(x, a) && Contains(y, b), Is.True,
                $"{a:x} {op:x2} {b:x} ({outcome}) jmp32={jmp32} lost: {StatePrinter.RegText(x, 0, [])} / {StatePrinter.RegText(y, 0, [])}");
        }
    }

    private static bool Holds(byte op, ulong a, ulong b, bool jmp32)
    {
        if (jmp32)
        {
            a = (uint)a;
            b = (uint)b;
        }

        long sa = jmp32 ? (int)(uint)a : (long)a, sb = jmp32 ? (int)(uint)b : (long)b;
        return op switch
        {
            BPF_JEQ => a == b,
            BPF_JNE => a != b,
            BPF_JGT => a > b,
            BPF_JGE => a >= b,
            BPF_JLT => a < b,
            BPF_JLE => a <= b,
            BPF_JSGT => sa > sb,
            BPF_JSGE => sa >= sb,
            BPF_JSLT => sa < sb,
            BPF_JSLE => sa <= sb,
            _ => (a & b) != 0,
        };
    }
}
