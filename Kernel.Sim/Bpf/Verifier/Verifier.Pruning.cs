using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kernel.Sim.Bpf.Verifier;

public sealed partial class Verifier
{
    // Registers that survive a call in the caller's frame: R6-R9 (R0-R5 are rewritten on return).
    private const ushort CallerLiveRegs = 0x3c0;

    private IdPair[] idMap = new IdPair[16];
    private int idMapCount;
    private int tmpIdGen;

    private record struct IdPair(int Old, int Cur);

    /// <summary>Key of a chain of unfinished checkpoints: the state hash is already mixed, so it is most of the key's hash.</summary>
    private readonly struct ChainKey(int insn, long hash) : IEquatable<ChainKey>
    {
        private readonly int insn = insn;
        private readonly long hash = hash;

        public bool Equals(ChainKey other) => insn == other.insn && hash == other.hash;

        public override bool Equals(object? obj) => obj is ChainKey k && Equals(k);

        public override int GetHashCode() => (int)hash ^ (int)(hash >> 32) ^ (insn * -1640531535);
    }

    /// <summary>
    /// False when <see cref="IsStateVisited"/> could do nothing here: no checkpoint at this instruction and too
    /// soon for a new one (it would return false and change nothing).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MayVisitState() =>
        inProgressCount[insnIdx] > 0 || explored[insnIdx] is not null || AddNewCheckpointDue;

    /// <summary>Linux's heuristic: at least 2 jumps and 8 instructions since the last checkpoint.</summary>
    private bool AddNewCheckpointDue => jmpsProcessed - prevJmpsProcessed >= 2 && processed - prevInsnProcessed >= 8;

    /// <summary>
    /// is_state_visited: prunes the path when a finished state at this instruction subsumes the current one,
    /// reports an infinite loop when an unfinished ancestor state equals it, and otherwise may checkpoint it.
    /// </summary>
    private bool IsStateVisited()
    {
        var addNew = AddNewCheckpointDue;
        var hash = 0L;
        if (inProgressCount[insnIdx] > 0)
        {
            hash = StateHash(cur);
            for (var sl = inProgress.GetValueOrDefault(new ChainKey(insnIdx, hash)); sl is not null; sl = sl.Next)
            {
                if (sl.InsnIdx == insnIdx && sl.Hash == hash && StatesEqual(sl, cur, exact: true))
                    throw Reject($"infinite loop detected at insn {insnIdx}");
            }

            // Inside a loop consecutive iterations differ: checkpoint only now and then.
            if (jmpsProcessed - prevJmpsProcessed < 20 && processed - prevInsnProcessed < 100)
                addNew = false;
        }
        else if (addNew)
        {
            hash = StateHash(cur);
        }

        maxStatesPerInsn = Math.Max(maxStatesPerInsn, inProgressCount[insnIdx] + exploredCount[insnIdx]);
        VerifierState? prev = null;
        for (var sl = explored[insnIdx]; sl is not null;)
        {
            var next = sl.Next;
            if (StatesEqual(sl, cur, exact: false))
            {
                sl.HitCount++;
                usedImprecision |= lastCompareSkippedImprecise;
                return true;
            }

            sl.MissCount++;
            if (sl.MissCount > (sl.HitCount * 3) + 3)
            {
                // Fully explored (Branches 0), so no live path has it as an ancestor: reusable.
                if (prev is null)
                    explored[insnIdx] = next;
                else
                    prev.Next = next;
                exploredCount[insnIdx]--;
                curStates--;
                FreeState(sl);
            }
            else
            {
                prev = sl;
            }

            sl = next;
        }

        if (!addNew)
            return false;
        var checkpoint = freeStates.Count > 0 ? freeStates.Pop() : new VerifierState();
        checkpoint.CopyLiveFrom(cur, cfg.LiveIn[insnIdx], CallerLiveRegs);
        checkpoint.Branches = 1;
        checkpoint.InsnIdx = insnIdx;
        checkpoint.Hash = hash;
        cur.Parent = checkpoint;
        ref var chain = ref CollectionsMarshal.GetValueRefOrAddDefault(inProgress, new ChainKey(insnIdx, hash), out _);
        checkpoint.Next = chain;
        chain = checkpoint;
        inProgressCount[insnIdx]++;
        totalStates++;
        curStates++;
        peakStates = Math.Max(peakStates, curStates);
        prevJmpsProcessed = jmpsProcessed;
        prevInsnProcessed = processed;
        foreach (var f in cur.Frames.AsSpan(0, cur.CurFrame + 1))
        {
            for (var r = 0; r < FuncState.RegCount; r++)
                f.Regs[r].Written = false;
        }

        return false;
    }

    /// <summary>A checkpoint whose paths all finished: from now on it may prune other paths (it moves from the unfinished chains to its instruction's explored list).</summary>
    private void MarkExplored(VerifierState st)
    {
        var key = new ChainKey(st.InsnIdx, st.Hash);
        if (!inProgress.TryGetValue(key, out var head))
            return;
        if (head == st)
        {
            if (st.Next is null)
                inProgress.Remove(key);
            else
                inProgress[key] = st.Next;
        }
        else
        {
            var p = head;
            while (p.Next is not null && p.Next != st)
                p = p.Next;
            if (p.Next is null)
                return;
            p.Next = st.Next;
        }

        inProgressCount[st.InsnIdx]--;
        st.Next = explored[st.InsnIdx];
        explored[st.InsnIdx] = st;
        exploredCount[st.InsnIdx]++;
    }

    private bool lastCompareSkippedImprecise;

    /// <summary>states_equal: does <paramref name="old"/> (verified, or an ancestor when exact) cover <paramref name="now"/>?</summary>
    private bool StatesEqual(VerifierState old, VerifierState now, bool exact)
    {
        lastCompareSkippedImprecise = false;
        if (old.CurFrame != now.CurFrame)
            return false;
        idMapCount = 0;
        tmpIdGen = 1 << 30;
        if (old.Refs.Length != now.Refs.Length)
            return false;
        for (var i = 0; i < old.Refs.Length; i++)
        {
            if (!CheckIds(old.Refs[i].Id, now.Refs[i].Id))
                return false;
        }

        for (var f = 0; f <= old.CurFrame; f++)
        {
            var o = old.Frames[f];
            var c = now.Frames[f];
            if (o.CallSite != c.CallSite)
                return false;
            var live = f == old.CurFrame ? cfg.LiveIn[insnIdx] : CallerLiveRegs;
            var precise = f == old.CurFrame ? cfg.PreciseIn[insnIdx] : CallerLiveRegs;
            for (var r = 0; r < 10; r++)
            {
                if ((live & (1 << r)) == 0)
                    continue;
                ref readonly var o1 = ref o.Regs[r];
                ref readonly var c1 = ref c.Regs[r];
                // An imprecise scalar covers any scalar: its exact value cannot change what is verified next.
                if (!exact && o1.IsScalar && c1.IsScalar && (precise & (1 << r)) == 0)
                {
                    lastCompareSkippedImprecise |= !RegSafe(o1, c1, exact: false);
                    continue;
                }
                if (!RegSafe(o1, c1, exact))
                    return false;
            }

            if (!StackSafe(o, c, exact))
                return false;
        }

        return true;
    }

    /// <summary>A hash of what an exact comparison looks at (ids excluded: they are compared through a mapping).</summary>
    private long StateHash(VerifierState st)
    {
        var h = Mix(0, (ulong)st.CurFrame);
        for (var f = 0; f <= st.CurFrame; f++)
        {
            var frame = st.Frames[f];
            h = Mix(h, (ulong)(uint)frame.CallSite);
            var live = f == st.CurFrame ? cfg.LiveIn[insnIdx] : CallerLiveRegs;
            for (var r = 0; r < 10; r++)
            {
                if ((live & (1 << r)) != 0)
                    h = MixReg(h, frame.Regs[r]);
            }

            var slots = frame.UsedSlots;
            for (var spi = 0; spi < slots.Length; spi++)
            {
                ref var slot = ref slots[spi];
                if (slot.Types == 0)
                    continue;
                // Byte types use the low two bits of each byte: the slot number fits in the top bits.
                h = Mix(h, slot.Types | ((ulong)spi << 58));
                if (slot.IsSpill)
                    h = Mix(Mix(h, slot.Spilled.VarOff.Value), slot.Spilled.VarOff.Mask ^ (ulong)slot.Spilled.Type);
            }
        }

        return (long)h;
    }

    private static ulong MixReg(ulong h, in RegState reg)
    {
        h = Mix(h, (ulong)reg.Type | ((ulong)(uint)reg.Off << 8) | ((ulong)(uint)reg.Range << 40));
        h = Mix(h, reg.VarOff.Value);
        h = Mix(h, reg.VarOff.Mask);
        h = Mix(h, (ulong)reg.SMin);
        return Mix(h, reg.UMax);
    }

    /// <summary>One step of a multiply-rotate hash: cheap, and equal inputs give equal hashes (all an exact-repeat lookup needs).</summary>
    private static ulong Mix(ulong h, ulong v) => BitOperations.RotateLeft((h ^ v) * 0x9E3779B97F4A7C15UL, 31);

    /// <summary>check_ids: the ids of the old state map one-to-one onto those of the current one.</summary>
    private bool CheckIds(int oldId, int curId)
    {
        if ((oldId == 0) != (curId == 0))
            return false;
        if (oldId == 0)
            return true;
        foreach (var p in idMap.AsSpan(0, idMapCount))
        {
            // The map is a bijection: the first pair naming either id decides.
            if (p.Old == oldId || p.Cur == curId)
                return p.Old == oldId && p.Cur == curId;
        }

        if (idMapCount == idMap.Length)
            Array.Resize(ref idMap, idMap.Length * 2);
        idMap[idMapCount++] = new IdPair(oldId, curId);
        return true;
    }

    /// <summary>check_scalar_ids: an id of 0 stands for a fresh id of its own (two of them always match, recording nothing that can matter).</summary>
    private bool CheckScalarIds(int oldId, int curId) =>
        (oldId == 0 && curId == 0) || CheckIds(oldId == 0 ? ++tmpIdGen : oldId, curId == 0 ? ++tmpIdGen : curId);

    private static bool RangeWithin(in RegState old, in RegState cur) =>
        old.UMin <= cur.UMin && old.UMax >= cur.UMax && old.SMin <= cur.SMin && old.SMax >= cur.SMax &&
        old.U32Min <= cur.U32Min && old.U32Max >= cur.U32Max && old.S32Min <= cur.S32Min && old.S32Max >= cur.S32Max;

    /// <summary>regsafe: every value <paramref name="cur"/> may hold, <paramref name="old"/> may hold too.</summary>
    private bool RegSafe(in RegState old, in RegState cur, bool exact)
    {
        if (exact)
        {
            var a = old;
            var b = cur;
            a.Written = b.Written = false;
            var idsOk = a.IsScalar ? CheckScalarIds(a.Id, b.Id) : CheckIds(a.Id, b.Id);
            a.Id = b.Id = 0;
            var refOk = CheckIds(a.RefObjId, b.RefObjId);
            a.RefObjId = b.RefObjId = 0;
            return idsOk && refOk && a == b;
        }

        if (old.Type == RegType.NotInit)
            return true;
        if (cur.Type != old.Type)
            return false;
        if (old.IsScalar)
            return CheckScalarIds(old.Id, cur.Id) && RangeWithin(old, cur) && old.VarOff.Contains(cur.VarOff);
        if (old.Off != cur.Off || old.MapIndex != cur.MapIndex || old.FrameNo != cur.FrameNo || old.MemSize != cur.MemSize)
            return false;
        if (RegTypeNames.IsPacketPointer(old.Type) && old.Range > cur.Range)
            return false;
        return CheckIds(old.Id, cur.Id) && CheckIds(old.RefObjId, cur.RefObjId) && RangeWithin(old, cur) && old.VarOff.Contains(cur.VarOff);
    }

    /// <summary>Per byte type, a mask with bit 8*i set when byte i of <paramref name="types"/> has that type (the types are 0..3).</summary>
    private static (ulong Invalid, ulong Spill, ulong Misc, ulong Zero) ByteMasks(ulong types)
    {
        const ulong Ones = 0x0101010101010101UL;
        var lo = types & Ones;
        var hi = (types >> 1) & Ones;
        return (~lo & ~hi & Ones, lo & ~hi, ~lo & hi & Ones, lo & hi);
    }

    /// <summary>stacksafe: byte by byte, what the old state's path could rely on holds now.</summary>
    private bool StackSafe(FuncState old, FuncState now, bool exact)
    {
        var oldSlots = old.SlotsInUse;
        var nowStack = now.Stack;
        var slots = exact ? Math.Max(oldSlots, now.SlotsInUse) : oldSlots;
        var never = default(StackSlot);
        for (var spi = 0; spi < slots; spi++)
        {
            // Slots past a frame's allocated part are never written (default), as are those past its array.
            ref readonly var o = ref spi < old.Stack.Length ? ref old.Stack[spi] : ref never;
            ref readonly var c = ref spi < nowStack.Length ? ref nowStack[spi] : ref never;

            // Same byte types and no spill byte: every byte rule below holds (a Misc byte cannot face a spilled pointer).
            if (o.Types == c.Types && !o.HasSpillByte)
                continue;
            if (exact)
            {
                if (o.Types != c.Types || (o.IsSpill && !RegSafe(o.Spilled, c.Spilled, exact: true)))
                    return false;
                continue;
            }

            if (o.IsSpill)
            {
                if (!c.IsSpill || !RegSafe(o.Spilled, c.Spilled, exact: false))
                    return false;
                continue;
            }

            // The byte rules of Linux's stacksafe, all eight bytes at once (one bit per byte of each mask):
            // an Invalid byte of the old state was never read unprivileged and read as unknown data privileged;
            // a Misc byte needs data (no pointer; initialised, unprivileged); a Zero byte needs a zero; a byte of a
            // partial spill needs the same byte and (after the loop) the same spilled value.
            var curHoldsPointer = c[7] == StackByte.Spill && c.Spilled.IsPointer;
            var (oInvalid, oSpill, oMisc, oZero) = ByteMasks(o.Types);
            var (cInvalid, cSpill, _, cZero) = ByteMasks(c.Types);
            if ((oZero & ~cZero) != 0 || (oSpill & ~cSpill) != 0)
                return false;
            if (oMisc != 0 && (curHoldsPointer || (!privileged && (oMisc & cInvalid) != 0)))
                return false;
            if (oInvalid != 0 && privileged && curHoldsPointer)
                return false;
            var partialSpill = oSpill != 0;

            if (partialSpill && !RegSafe(o.Spilled, c.Spilled, exact: false))
                return false;
        }

        return true;
    }
}
