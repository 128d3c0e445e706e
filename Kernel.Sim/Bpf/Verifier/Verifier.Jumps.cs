using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Verifier;

public sealed partial class Verifier
{
    private int CheckJump(Instruction insn, out bool pathEnded)
    {
        pathEnded = false;
        jmpsProcessed++;
        var op = Op(insn.Opcode);
        var jmp32 = Class(insn.Opcode) == BPF_JMP32;
        switch (op)
        {
            case BPF_JA:
                if (insn.Src != 0 || insn.Dst != 0 || (jmp32 ? insn.Offset != 0 : insn.Imm != 0) || Source(insn.Opcode) != 0)
                    throw Reject("BPF_JA uses reserved fields");
                return ControlFlow.JumpTarget(insns, insnIdx);
            case BPF_EXIT:
                if (insn.Src != 0 || insn.Dst != 0 || insn.Offset != 0 || insn.Imm != 0 || jmp32 || Source(insn.Opcode) != 0)
                    throw Reject("BPF_EXIT uses reserved fields");
                return CheckExit(out pathEnded);
            case BPF_CALL:
                if (jmp32 || Source(insn.Opcode) != 0 || insn.Offset != 0 || insn.Dst != 0)
                    throw Reject("BPF_CALL uses reserved fields");
                if (insn.Src == BPF_PSEUDO_CALL)
                    return CheckFuncCall(insn);
                if (insn.Src != 0)
                    throw Reject(insn.Src == BPF_PSEUDO_KFUNC_CALL ? "calling kernel functions is not supported" : "BPF_CALL uses reserved fields");
                CheckHelperCall(insn);
                return insnIdx + 1;
        }

        if (op > BPF_JSLE)
            throw Reject($"invalid BPF_JMP/JMP32 opcode {op:x}");
        var x = Source(insn.Opcode) == BPF_X;
        if (x ? insn.Imm != 0 : insn.Src != 0)
            throw Reject("BPF_JMP/JMP32 uses reserved fields");
        CheckRegRead(insn.Dst);
        if (x)
        {
            CheckRegRead(insn.Src);
            if (!(IsAnyPacketPointer(Reg(insn.Dst).Type) && IsAnyPacketPointer(Reg(insn.Src).Type)) && IsPointerValue(insn.Src))
                throw Reject($"R{insn.Src} pointer comparison prohibited");
        }

        // By reference: nothing below writes the source register of the current state before its last read
        // (RefineBranch refines a copy and stores it back at the end).
        ref readonly var src = ref x ? ref Reg(insn.Src) : ref ImmReg(jmp32 ? (uint)insn.Imm : (ulong)(long)insn.Imm);

        ref readonly var dst = ref Reg(insn.Dst); // read only until the state is copied below
        var target = insnIdx + insn.Offset + 1;
        var pred = BranchTaken(dst, src, op, jmp32);
        if (pred >= 0 && dst.IsScalar && src.IsScalar && !decidedJumps[insnIdx])
        {
            decidedJumps[insnIdx] = true;
            if (!preciseJumps[insnIdx])
                newDecidedJump = true;
        }

        if (pred == 1)
            return target;
        if (pred == 0)
            return insnIdx + 1;

        var taken = CopyState(cur);
        var takenOk = RefineBranch(taken, insn, src, x, true);
        var fallOk = RefineBranch(cur, insn, src, x, false);
        if (takenOk)
            PushBranch(taken, target);
        else
            FreeState(taken);
        if (!fallOk)
        {
            pathEnded = true;
            return insnIdx + 1;
        }

        return insnIdx + 1;
    }

    private static bool IsAnyPacketPointer(RegType t) => t is RegType.PtrToPacket or RegType.PtrToPacketMeta or RegType.PtrToPacketEnd;

    /// <summary>is_branch_taken, including the special case of a non-NULL pointer compared with 0.</summary>
    private static int BranchTaken(in RegState dst, in RegState src, byte op, bool jmp32)
    {
        if (dst.IsScalar && src.IsScalar)
            return ScalarBounds.BranchTaken(dst, src, op, jmp32);
        if (op is BPF_JEQ or BPF_JNE)
        {
            var ptr = dst.IsPointer ? dst : src;
            var other = dst.IsPointer ? src : dst;
            if (ptr.IsPointer && other.IsScalar && other.IsConst && other.VarOff.Value == 0 && !RegTypeNames.IsOrNull(ptr.Type) && !jmp32)
                return op == BPF_JEQ ? 0 : 1;
        }

        return -1;
    }

    /// <summary>Narrows <paramref name="st"/> to the outcome; false when that outcome is impossible.</summary>
    private bool RefineBranch(VerifierState st, Instruction insn, in RegState srcValue, bool x, bool outcome)
    {
        var op = Op(insn.Opcode);
        var jmp32 = Class(insn.Opcode) == BPF_JMP32;
        var frame = st.Frames[st.CurFrame];
        ref var dst = ref frame.Regs[insn.Dst];
        var effective = outcome ? op : ScalarBounds.Reverse(op);
        if (dst.IsScalar && srcValue.IsScalar)
        {
            var s = x ? frame.Regs[insn.Src] : srcValue;
            ScalarBounds.RefineCondition(ref dst, ref s, effective, jmp32);
            ScalarBounds.Sync(ref dst);
            ScalarBounds.Sync(ref s);
            if (dst.BoundsInvalid || s.BoundsInvalid)
                return false;
            if (x)
                frame.Regs[insn.Src] = s;
            SyncLinked(st, frame.Regs[insn.Dst]);
            if (x)
                SyncLinked(st, frame.Regs[insn.Src]);
            return true;
        }

        // A pointer that may be NULL compared with 0: every copy (same id) becomes NULL or the pointer.
        if (!x && insn.Imm == 0 && op is BPF_JEQ or BPF_JNE && RegTypeNames.IsOrNull(dst.Type) && !jmp32)
        {
            var isNull = (op == BPF_JEQ) == outcome;
            MarkPtrOrNull(st, dst.Id, isNull);
            return true;
        }

        if (x && TryMatchPacketPointers(st, insn, op, outcome))
            return true;
        if (!jmp32 && x && dst.IsPointer && frame.Regs[insn.Src].IsPointer)
            return true;
        if (dst.IsPointer && !privileged)
            throw Reject($"R{insn.Dst} pointer comparison prohibited");
        return true;
    }

    /// <summary>sync_linked_regs: registers that are copies of a refined scalar (same id) learn the same bounds.</summary>
    private static void SyncLinked(VerifierState st, in RegState refined)
    {
        if (refined.Id == 0 || !refined.IsScalar)
            return;
        for (var f = 0; f <= st.CurFrame; f++)
        {
            var frame = st.Frames[f];
            for (var r = 0; r < FuncState.RegCount; r++)
            {
                ref var reg = ref frame.Regs[r];
                if (reg.IsScalar && reg.Id == refined.Id)
                {
                    var w = reg.Written;
                    reg = refined;
                    reg.Written = w;
                }
            }

            foreach (ref var slot in frame.UsedSlots)
            {
                if (slot.IsSpill && slot.Spilled.IsScalar && slot.Spilled.Id == refined.Id)
                    slot.Spilled = refined;
            }
        }
    }

    private void MarkPtrOrNull(VerifierState st, int id, bool isNull)
    {
        if (id == 0)
            return;
        var refId = 0;
        for (var f = 0; f <= st.CurFrame; f++)
        {
            var frame = st.Frames[f];
            for (var r = 0; r < FuncState.RegCount; r++)
                MarkOne(ref frame.Regs[r], id, isNull, ref refId);
            foreach (ref var slot in frame.UsedSlots)
            {
                if (slot.IsSpill)
                    MarkOne(ref slot.Spilled, id, isNull, ref refId);
            }
        }

        // The NULL outcome holds no reference: nothing to release on that path.
        if (isNull && refId != 0)
            st.Refs = Array.FindAll(st.Refs, r => r.Id != refId);
    }

    private static void MarkOne(ref RegState reg, int id, bool isNull, ref int refId)
    {
        if (!RegTypeNames.IsOrNull(reg.Type) || reg.Id != id)
            return;
        if (reg.RefObjId != 0)
            refId = reg.RefObjId;
        var w = reg.Written;
        if (isNull)
        {
            reg = RegState.Known(0);
        }
        else
        {
            reg.Type = reg.Type == RegType.PtrToMapValueOrNull ? RegType.PtrToMapValue : RegType.PtrToMem;
            reg.Id = 0;
        }

        reg.Written = w;
    }

    /// <summary>try_match_pkt_pointers: a comparison of a packet pointer with the packet end proves a range.</summary>
    private bool TryMatchPacketPointers(VerifierState st, Instruction insn, byte op, bool outcome)
    {
        if (Class(insn.Opcode) == BPF_JMP32)
            return false;
        var frame = st.Frames[st.CurFrame];
        var dst = frame.Regs[insn.Dst];
        var src = frame.Regs[insn.Src];
        bool PktVsEnd(in RegState p, in RegState e) =>
            (p.Type == RegType.PtrToPacket && e.Type == RegType.PtrToPacketEnd) ||
            (p.Type == RegType.PtrToPacketMeta && e.Type == RegType.PtrToPacket);
        RegState pkt;
        bool pktIsDst;
        if (PktVsEnd(dst, src))
        {
            pkt = dst;
            pktIsDst = true;
        }
        else if (PktVsEnd(src, dst))
        {
            pkt = src;
            pktIsDst = false;
        }
        else
        {
            return false;
        }

        // Normalise to "pkt OP end", then decide what this outcome proves.
        var rel = pktIsDst ? op : ScalarBounds.Flip(op);
        if (!outcome)
            rel = ScalarBounds.Reverse(rel);
        switch (rel)
        {
            case BPF_JLE:
                FindGoodPacketPointers(st, pkt, rightOpen: false);
                return true;
            case BPF_JLT:
                FindGoodPacketPointers(st, pkt, rightOpen: true);
                return true;
            case BPF_JGT or BPF_JGE:
                return true;
            default:
                return false;
        }
    }

    private static void FindGoodPacketPointers(VerifierState st, RegState pkt, bool rightOpen)
    {
        if (pkt.Off < 0 || (pkt.Off == 0 && rightOpen))
            return;
        if (pkt.UMax > MaxPacketOff || pkt.UMax + (ulong)pkt.Off > MaxPacketOff)
            return;
        var newRange = pkt.Off + (rightOpen ? 1 : 0);
        for (var f = 0; f <= st.CurFrame; f++)
        {
            var frame = st.Frames[f];
            for (var r = 0; r < FuncState.RegCount; r++)
            {
                ref var reg = ref frame.Regs[r];
                if (reg.Type == pkt.Type && reg.Id == pkt.Id)
                    reg.Range = Math.Max(reg.Range, newRange);
            }

            foreach (ref var slot in frame.UsedSlots)
            {
                if (slot.IsSpill && slot.Spilled.Type == pkt.Type && slot.Spilled.Id == pkt.Id)
                    slot.Spilled.Range = Math.Max(slot.Spilled.Range, newRange);
            }
        }
    }

    /// <summary>BPF_EXIT: return to the caller frame, or end the path after check_return_code.</summary>
    private int CheckExit(out bool pathEnded)
    {
        pathEnded = false;
        CheckRegRead(0);
        if (cur.CurFrame > 0)
        {
            var callee = Frame;
            var r0 = callee.Regs[0];
            if (r0.Type == RegType.PtrToStack && r0.FrameNo == callee.FrameNo)
                throw Reject("cannot return stack pointer to the caller frame");
            cur.CurFrame--; // the callee's frame object stays for the next call to reuse
            var caller = Frame;
            caller.Regs[0] = r0;
            caller.Regs[0].Written = true;
            caller.ScratchedRegs |= 1;
            return callee.CallSite + 1;
        }

        if (cur.Refs.Length > 0)
            throw Reject($"Unreleased reference id={cur.Refs[0].Id} alloc_insn={cur.Refs[0].Insn}");
        var ret = Reg(0);
        if (ret.IsPointer)
        {
            if (!privileged)
                throw Reject("R0 leaks addr as return value");
        }
        else if (progType.ReturnRange is { } range && (ret.SMin < range.Min || ret.SMax > range.Max))
        {
            throw Reject($"At program exit the register R0 has {StatePrinter.RegText(ret, 0, maps)} should have been in [{range.Min}, {range.Max}]");
        }

        pathEnded = true;
        return insnIdx;
    }
}
