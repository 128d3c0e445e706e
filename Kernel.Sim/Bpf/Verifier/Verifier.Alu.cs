using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Verifier;

public sealed partial class Verifier
{
    /// <summary>check_alu_op: operand checks, then the scalar or pointer arithmetic.</summary>
    private void CheckAlu(Instruction insn)
    {
        var op = Op(insn.Opcode);
        var alu64 = Class(insn.Opcode) == BPF_ALU64;
        var x = Source(insn.Opcode) == BPF_X;
        if (op > BPF_END)
            throw Reject($"invalid BPF_ALU opcode {op:x}");

        if (op is BPF_NEG or BPF_END)
        {
            var bad = op == BPF_NEG
                ? x || insn.Src != 0 || insn.Offset != 0 || insn.Imm != 0
                : insn.Src != 0 || insn.Offset != 0 || (insn.Imm != 16 && insn.Imm != 32 && insn.Imm != 64) || (alu64 && x);
            if (bad)
                throw Reject(op == BPF_NEG ? "BPF_NEG uses reserved fields" : "BPF_END uses reserved fields");
            CheckRegRead(insn.Dst);
            if (Reg(insn.Dst).IsPointer)
            {
                if (!privileged)
                    throw Reject($"R{insn.Dst} pointer arithmetic prohibited");
                Reg(insn.Dst).MarkUnknown();
            }

            CheckRegWrite(insn.Dst);
            ref var d = ref Reg(insn.Dst);
            if (op == BPF_NEG)
                ScalarBounds.Alu(ref d, RegState.Known(0), BPF_NEG, !alu64);
            else
                ByteSwap(ref d, insn.Imm, alu64 || x);
            d.Written = true;
            return;
        }

        if (op == BPF_MOV)
        {
            CheckMov(insn, alu64, x);
            return;
        }

        var signedDivMod = op is BPF_DIV or BPF_MOD && insn.Offset == 1;
        if (x ? insn.Imm != 0 || (insn.Offset != 0 && !signedDivMod) : insn.Src != 0 || (insn.Offset != 0 && !signedDivMod))
            throw Reject("BPF_ALU uses reserved fields");
        if (x)
            CheckRegRead(insn.Src);
        CheckRegRead(insn.Dst);
        if (!x && op is BPF_DIV or BPF_MOD && insn.Imm == 0)
            throw Reject("div by zero");
        if (!x && op is BPF_LSH or BPF_RSH or BPF_ARSH && (insn.Imm < 0 || insn.Imm >= (alu64 ? 64 : 32)))
            throw Reject($"invalid shift {insn.Imm}");
        CheckRegWrite(insn.Dst);

        if (x)
        {
            var copy = Reg(insn.Src); // a copy: dst may be the same register
            AluOp(insn, copy, op, alu64);
        }
        else
        {
            AluOp(insn, ImmReg((ulong)(long)insn.Imm), op, alu64);
        }
    }

    private void AluOp(Instruction insn, in RegState src, byte op, bool alu64)
    {
        ref var dst = ref Reg(insn.Dst);
        if (dst.IsPointer || src.IsPointer)
        {
            PointerAlu(insn, ref dst, src, op, alu64);
            dst.Written = true;
            return;
        }

        ScalarBounds.Alu(ref dst, src, op, !alu64);
        dst.Id = 0;
        dst.Written = true;
    }

    private static void ByteSwap(ref RegState d, int bits, bool swaps)
    {
        if (!swaps)
        {
            // to_le on a little-endian machine only truncates.
            if (bits < 64)
            {
                d.Id = 0;
                CoerceToSize(ref d, bits / 8);
            }

            return;
        }

        var written = d.Written;
        d = RegState.UnknownScalar;
        d.Written = written;
        if (bits < 64)
            CoerceToSize(ref d, bits / 8);
    }

    private void CheckMov(Instruction insn, bool alu64, bool x)
    {
        if (x)
        {
            var validOff = alu64 ? insn.Offset is 0 or 8 or 16 or 32 : insn.Offset is 0 or 8 or 16;
            if (insn.Imm != 0 || !validOff)
                throw Reject("BPF_MOV uses reserved fields");
            CheckRegRead(insn.Src);
        }
        else if (insn.Src != 0 || insn.Offset != 0)
        {
            throw Reject("BPF_MOV uses reserved fields");
        }

        CheckRegWrite(insn.Dst);
        if (!x)
        {
            ref var d = ref Reg(insn.Dst);
            d = RegState.UnknownScalar;
            d.SetKnown(alu64 ? (ulong)(long)insn.Imm : (uint)insn.Imm);
            d.Written = true;
            return;
        }

        ref var src = ref Reg(insn.Src);
        if (insn.Offset != 0)
        {
            // movsx: sign-extend the low Offset bits.
            if (src.IsPointer)
                throw Reject($"R{insn.Src} sign-extension part of pointer");
            var bits = insn.Offset;
            RegState r;
            if (src.IsConst)
            {
                var v = SignExtend(src.VarOff.Value, bits);
                r = RegState.Known(alu64 ? v : (uint)v);
            }
            else
            {
                r = RegState.UnknownScalar;
                r.SMin = -(1L << (bits - 1));
                r.SMax = (1L << (bits - 1)) - 1;
                if (!alu64)
                {
                    r.S32Min = (int)r.SMin;
                    r.S32Max = (int)r.SMax;
                    r.SMin = long.MinValue;
                    r.SMax = long.MaxValue;
                    ScalarBounds.ZeroExtend32(ref r);
                }

                ScalarBounds.Sync(ref r);
            }

            SetReg(insn.Dst, r);
            return;
        }

        if (alu64)
        {
            if (src.Type == RegType.Scalar && src.Id == 0 && !src.IsConst)
                src.Id = ++idGen;
            SetReg(insn.Dst, src);
            return;
        }

        if (src.IsPointer)
        {
            if (!privileged)
                throw Reject($"R{insn.Src} partial copy of pointer");
            SetReg(insn.Dst, RegState.UnknownScalar);
            ref var d = ref Reg(insn.Dst);
            ScalarBounds.ZeroExtend32(ref d);
            ScalarBounds.Sync(ref d);
            return;
        }

        var copy = src;
        copy.Id = 0;
        ScalarBounds.ZeroExtend32(ref copy);
        ScalarBounds.Sync(ref copy);
        SetReg(insn.Dst, copy);
    }

    private static ulong SignExtend(ulong v, int bits) => (ulong)((long)(v << (64 - bits)) >> (64 - bits));

    /// <summary>adjust_ptr_min_max_vals and the pointer cases of adjust_reg_min_max_vals.</summary>
    private void PointerAlu(Instruction insn, ref RegState dst, RegState src, byte op, bool alu64)
    {
        var dstno = insn.Dst;
        if (dst.IsPointer && src.IsPointer)
        {
            if (op == BPF_SUB && privileged)
            {
                dst.MarkUnknown();
                if (!alu64)
                    ScalarBounds.ZeroExtend32(ref dst);
                return;
            }

            throw Reject($"R{dstno} pointer {InsnText.AluOpString(op)} pointer prohibited");
        }

        var ptr = dst.IsPointer ? dst : src;
        var off = dst.IsPointer ? src : dst;
        if (!alu64)
        {
            if (op == BPF_SUB && privileged)
            {
                dst.MarkUnknown();
                ScalarBounds.ZeroExtend32(ref dst);
                return;
            }

            throw Reject($"R{dstno} 32-bit pointer arithmetic prohibited");
        }

        var typeName = RegTypeNames.Name(ptr.Type);
        if (RegTypeNames.IsOrNull(ptr.Type))
            throw Reject($"R{dstno} pointer arithmetic on {typeName} prohibited, null-check it first");
        if (ptr.Type == RegType.ConstPtrToMap && !(off.IsConst && off.VarOff.Value == 0 && op == BPF_ADD))
            throw Reject($"R{dstno} pointer arithmetic on {typeName} prohibited");
        if (ptr.Type is RegType.PtrToPacketEnd)
            throw Reject($"R{dstno} pointer arithmetic on {typeName} prohibited");
        if (op is BPF_AND or BPF_OR or BPF_XOR)
            throw Reject($"R{dstno} bitwise operator {InsnText.AluOpString(op)} on pointer prohibited");
        if (op is not (BPF_ADD or BPF_SUB))
            throw Reject($"R{dstno} pointer arithmetic with {InsnText.AluOpString(op)} operator prohibited");
        if (op == BPF_SUB && !dst.IsPointer)
            throw Reject($"R{dstno} tried to subtract pointer from scalar");
        // Linux refuses every subtraction from a stack pointer (JITs may not cope with it).
        if (op == BPF_SUB && ptr.Type == RegType.PtrToStack)
            throw Reject($"R{dstno} subtraction from stack pointer prohibited");

        // check_reg_sane_offset for the scalar and for the pointer.
        if (off.IsConst && ((long)off.VarOff.Value >= MaxVarOff || (long)off.VarOff.Value <= -MaxVarOff))
            throw Reject($"math between {typeName} pointer and {(long)off.VarOff.Value} is not allowed");
        if (off.SMin == long.MinValue)
            throw Reject($"math between {typeName} pointer and register with unbounded min value is not allowed");
        if (off.SMin >= MaxVarOff || off.SMin <= -MaxVarOff)
            throw Reject($"value {off.SMin} makes {typeName} pointer be out of bounds");

        var result = ptr;
        if (off.IsConst)
        {
            var val = (long)off.VarOff.Value;
            var newOff = op == BPF_ADD ? ptr.Off + val : ptr.Off - val;
            if (newOff >= MaxVarOff || newOff <= -MaxVarOff)
                throw Reject($"{typeName} pointer offset {newOff} is not allowed");
            result.Off = (int)newOff;
        }
        else
        {
            var varPart = ptr;
            varPart.Type = RegType.Scalar;
            ScalarBounds.Alu(ref varPart, off, op, alu32: false);
            result.VarOff = varPart.VarOff;
            result.SMin = varPart.SMin;
            result.SMax = varPart.SMax;
            result.UMin = varPart.UMin;
            result.UMax = varPart.UMax;
            result.S32Min = varPart.S32Min;
            result.S32Max = varPart.S32Max;
            result.U32Min = varPart.U32Min;
            result.U32Max = varPart.U32Max;
            if (RegTypeNames.IsPacketPointer(ptr.Type))
            {
                result.Id = ++idGen;
                result.Range = 0;
            }
        }

        if (result.SMin >= MaxVarOff || result.SMin <= -MaxVarOff)
            throw Reject($"value {result.SMin} makes {typeName} pointer be out of bounds");
        dst = result;
    }
}
