using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Verifier;

public sealed partial class Verifier
{
    private void CheckLoad(Instruction insn)
    {
        var mode = Mode(insn.Opcode);
        if ((mode != BPF_MEM && mode != BPF_MEMSX) || insn.Imm != 0 || (mode == BPF_MEMSX && Size(insn.Opcode) == BPF_DW))
            throw Reject("BPF_LDX uses reserved fields");
        CheckRegRead(insn.Src);
        CheckRegWrite(insn.Dst);
        var size = SizeInBytes(Size(insn.Opcode));
        var value = CheckMemAccess(insn.Src, insn.Offset, size, write: false, valueRegno: insn.Dst);
        if (value.Type == RegType.Scalar && size < 8)
        {
            if (mode == BPF_MEMSX)
            {
                value = RegState.UnknownScalar;
                value.SMin = -(1L << ((size * 8) - 1));
                value.SMax = (1L << ((size * 8) - 1)) - 1;
                ScalarBounds.Sync(ref value);
            }
            else
            {
                CoerceToSize(ref value, size);
            }
        }

        SetReg(insn.Dst, value);
    }

    private void CheckStore(Instruction insn)
    {
        if (Mode(insn.Opcode) != BPF_MEM || insn.Imm != 0)
            throw Reject("BPF_STX uses reserved fields");
        CheckRegRead(insn.Src);
        CheckRegRead(insn.Dst);
        CheckMemAccess(insn.Dst, insn.Offset, SizeInBytes(Size(insn.Opcode)), write: true, valueRegno: insn.Src);
    }

    private void CheckStoreImm(Instruction insn)
    {
        if (Mode(insn.Opcode) != BPF_MEM || insn.Src != 0)
            throw Reject("BPF_ST uses reserved fields");
        // Linux >= 6.3 lets BPF_ST write context fields like BPF_STX does (the ctx access rules decide).
        CheckRegRead(insn.Dst);
        CheckMemAccess(insn.Dst, insn.Offset, SizeInBytes(Size(insn.Opcode)), write: true, valueRegno: -1, imm: insn.Imm);
    }

    private void CheckAtomic(Instruction insn)
    {
        var imm = insn.Imm;
        var op = imm & ~BPF_FETCH;
        if (!(imm == BPF_XCHG || imm == BPF_CMPXCHG || (op is BPF_ADD or BPF_AND or BPF_OR or BPF_XOR && (imm & ~0xf1) == 0)))
            throw Reject($"BPF_ATOMIC uses invalid atomic opcode {imm:x2}");
        var size = Size(insn.Opcode);
        if (size != BPF_W && size != BPF_DW)
            throw Reject("invalid atomic operand size");
        CheckRegRead(insn.Src);
        CheckRegRead(insn.Dst);
        if (imm == BPF_CMPXCHG)
        {
            CheckRegRead(0);
            if (IsPointerValue(0))
                throw Reject("R0 leaks addr into mem");
        }

        if (IsPointerValue(insn.Src))
            throw Reject($"R{insn.Src} leaks addr into mem");
        var t = Reg(insn.Dst).Type;
        if (t is RegType.PtrToCtx or RegType.PtrToPacket or RegType.PtrToPacketMeta)
            throw Reject($"BPF_ATOMIC stores into R{insn.Dst} {RegTypeNames.Name(t)} is not allowed");
        var bytes = SizeInBytes(size);
        var loaded = CheckMemAccess(insn.Dst, insn.Offset, bytes, write: false, valueRegno: -1);
        if (loaded.IsPointer && !privileged)
            throw Reject($"R{insn.Dst} leaks addr into mem");
        CheckMemAccess(insn.Dst, insn.Offset, bytes, write: true, valueRegno: -1);
        if ((imm & BPF_FETCH) != 0)
        {
            var result = RegState.UnknownScalar;
            CoerceToSize(ref result, bytes);
            var target = imm == BPF_CMPXCHG ? 0 : insn.Src;
            CheckRegWrite(target);
            SetReg(target, result);
        }
    }

    private void RecordAccess(AccessKind kind) => accesses[insnIdx] |= kind;

    /// <summary>
    /// check_mem_access: may <paramref name="size"/> bytes at R<paramref name="regno"/> + <paramref name="off"/>
    /// be read or written? For reads, returns the value loaded (before size coercion).
    /// </summary>
    private RegState CheckMemAccess(int regno, int off, int size, bool write, int valueRegno, int imm = 0)
    {
        var reg = Reg(regno);
        var totalOff = off + reg.Off;
        var leaks = write && valueRegno >= 0 && IsPointerValue(valueRegno);
        switch (reg.Type)
        {
            case RegType.PtrToMapValue:
                {
                    if (leaks)
                        throw Reject($"R{valueRegno} leaks addr into map");
                    var map = maps[reg.MapIndex];
                    CheckMemRegion(regno, reg, totalOff, size, map.ValueSize, "map value", $"value_size={map.ValueSize}");
                    RecordAccess(AccessKind.MapValue);
                    return RegState.UnknownScalar;
                }

            case RegType.PtrToMapKey:
                {
                    if (write)
                        throw Reject($"write to change key R{regno} not allowed");
                    var map = maps[reg.MapIndex];
                    CheckMemRegion(regno, reg, totalOff, size, map.KeySize, "map key", $"key_size={map.KeySize}");
                    RecordAccess(AccessKind.MapValue);
                    return RegState.UnknownScalar;
                }

            case RegType.PtrToMem:
                if (leaks)
                    throw Reject($"R{valueRegno} leaks addr into mem");
                CheckMemRegion(regno, reg, totalOff, size, reg.MemSize, "memory", $"mem_size={reg.MemSize}");
                RecordAccess(AccessKind.Memory);
                return RegState.UnknownScalar;

            case RegType.PtrToCtx:
                {
                    if (write && valueRegno >= 0 && IsPointerValue(valueRegno))
                        throw Reject($"R{valueRegno} leaks addr into ctx");
                    if (reg.Off != 0)
                        throw Reject($"dereference of modified ctx ptr R{regno} off={reg.Off} disallowed");
                    if (!reg.VarOff.IsConst || reg.VarOff.Value != 0)
                        throw Reject($"variable ctx access var_off={reg.VarOff} off={off} size={size}");
                    if (!progType.IsValidContextAccess(off, size, write, out var loadedType))
                        throw Reject($"invalid bpf_context access off={off} size={size}");
                    RecordAccess(AccessKind.Context);
                    return loadedType == RegType.Scalar ? RegState.UnknownScalar : RegState.Pointer(loadedType);
                }

            case RegType.PtrToStack:
                RecordAccess(AccessKind.Stack);
                return write ? StackWrite(regno, reg, off, size, valueRegno, imm) : StackRead(regno, reg, off, size);

            case RegType.PtrToPacket:
            case RegType.PtrToPacketMeta:
                {
                    if (!progType.DirectPacketAccess)
                        throw Reject(write ? "cannot write into packet" : "cannot read from packet");
                    if (leaks)
                        throw Reject($"R{valueRegno} leaks addr into packet");
                    if (reg.SMin < 0)
                        throw Reject($"R{regno} min value is negative, either use unsigned index or do a if (index >=0) check.");
                    if (totalOff < 0 || size <= 0 || (long)totalOff + size > reg.Range)
                        throw Reject($"invalid access to packet, off={totalOff} size={size}, R{regno}(id={reg.Id},off={totalOff},r={reg.Range})\nR{regno} offset is outside of the packet");
                    RecordAccess(AccessKind.Packet);
                    return RegState.UnknownScalar;
                }

            default:
                throw Reject($"R{regno} invalid mem access '{RegTypeNames.Name(reg.Type)}'");
        }
    }

    /// <summary>check_mem_region_access: the whole variable range of the pointer stays inside [0, memSize).</summary>
    private static void CheckMemRegion(int regno, in RegState reg, int off, int size, int memSize, string what, string sizeText)
    {
        if (reg.SMin < 0 && (reg.SMin == long.MinValue || off + reg.SMin != (int)(off + reg.SMin) || reg.SMin + off < 0))
            throw Reject($"R{regno} min value is negative, either use unsigned index or do a if (index >=0) check.");
        var lo = reg.SMin + off;
        if (!(lo >= 0 && size > 0 && lo + size <= memSize))
            throw Reject($"invalid access to {what}, {sizeText} off={lo} size={size}\nR{regno} min value is outside of the allowed memory range");
        if (reg.UMax >= MaxVarOff)
            throw Reject($"R{regno} unbounded memory access, make sure to bounds check any such access");
        var hi = (long)reg.UMax + off;
        if (!(hi >= 0 && hi + size <= memSize))
            throw Reject($"invalid access to {what}, {sizeText} off={hi} size={size}\nR{regno} max value is outside of the allowed memory range");
    }

    /// <summary>check_stack_access_within_bounds plus the strict alignment Linux always applies to the stack.</summary>
    private (long MinOff, long MaxOff) StackBounds(int regno, in RegState reg, int off, int size, string errExtra, bool write)
    {
        var aligned = (reg.VarOff + Tnum.Const((ulong)(long)(reg.Off + off))).IsAligned((ulong)size);
        if (!aligned)
            throw Reject($"misaligned stack access off {reg.VarOff}+{reg.Off}+{off} size {size}");
        long minOff, maxOff;
        if (reg.VarOff.IsConst)
        {
            minOff = (long)reg.VarOff.Value + reg.Off + off;
            maxOff = minOff + size;
        }
        else
        {
            if (reg.SMax >= MaxVarOff || reg.SMin <= -MaxVarOff)
                throw Reject($"invalid unbounded variable-offset{errExtra} stack R{regno}");
            minOff = reg.SMin + reg.Off + off;
            maxOff = reg.SMax + reg.Off + off + size;
        }

        var frame = cur.Frames[reg.FrameNo];
        var minValid = write || privileged ? -FuncState.MaxStack : -frame.AllocatedStack;
        if (minOff < minValid || minOff > -1 || maxOff > 0)
        {
            if (reg.VarOff.IsConst)
                throw Reject($"invalid{errExtra} stack R{regno} off={(long)reg.VarOff.Value + reg.Off + off} size={size}");
            throw Reject($"invalid variable-offset{errExtra} stack R{regno} var_off={reg.VarOff} off={reg.Off + off} size={size}");
        }

        GrowStack(frame, (int)-minOff);
        return (minOff, maxOff);
    }

    private void GrowStack(FuncState frame, int bytes)
    {
        frame.GrowStack(bytes);
        var rounded = frame.AllocatedStack;
        var sub = cfg.SubprogOf[frame.SubprogStart];
        if (rounded > subprogStackDepth[sub])
            subprogStackDepth[sub] = rounded;
    }

    private static StackByte ByteType(FuncState f, long addr)
    {
        var slot = (int)((-addr - 1) / 8);
        return f.Stack[slot][(int)((-addr - 1) % 8)];
    }

    private static void SetByteType(FuncState f, long addr, StackByte t)
    {
        var slot = (int)((-addr - 1) / 8);
        f.Stack[slot].Set((int)((-addr - 1) % 8), t);
    }

    private RegState StackWrite(int regno, in RegState reg, int off, int size, int valueRegno, int imm)
    {
        var (minOff, maxOff) = StackBounds(regno, reg, off, size, " write to", write: true);
        var frame = cur.Frames[reg.FrameNo];
        var value = valueRegno >= 0 ? Reg(valueRegno) : RegState.Known((ulong)(long)imm);
        var isZero = value.Type == RegType.Scalar && value.IsConst && value.VarOff.Value == 0 &&
                     (valueRegno >= 0 || imm == 0);
        if (!reg.VarOff.IsConst)
        {
            // check_stack_write_var_off: every byte in the range may be written; none keeps a spilled register.
            for (var a = minOff; a < maxOff; a++)
            {
                var spi = (int)((-a - 1) / 8);
                ref var slot = ref frame.Stack[spi];
                if (slot[7] == StackByte.Spill && slot.Spilled.IsPointer && !privileged)
                    throw Reject($"spilled ptr in range of var-offset stack write; insn {insnIdx}, ptr off: {a}");
                if (ByteType(frame, a) == StackByte.Invalid && !privileged)
                    throw Reject($"uninit stack in range of var-offset write prohibited for !root; insn {insnIdx}, off: {a}");
                ScrubSpill(ref slot);
                SetByteType(frame, a, isZero ? StackByte.Zero : StackByte.Misc);
                frame.ScratchedSlots |= 1UL << spi;
            }

            return default;
        }

        var spiFixed = FuncState.SlotOf((int)minOff);
        ref var s = ref frame.Stack[spiFixed];
        frame.ScratchedSlots |= 1UL << spiFixed;
        var slotAligned = minOff % 8 == 0;
        if (privileged && slotAligned && value.Type == RegType.Scalar)
        {
            // CAP_BPF: a scalar (or a BPF_ST immediate) stored at a slot boundary is spilled with its bounds,
            // even when narrower than 8 bytes (save_register_state with a size).
            SaveRegisterState(ref s, value, size);
            return default;
        }

        if (value.IsPointer)
        {
            if (size != 8)
                throw Reject("invalid size of register spill");
            SaveRegisterState(ref s, value, 8);
            return default;
        }

        if (s[7] == StackByte.Spill && s.Spilled.IsPointer && !privileged && size != 8)
            throw Reject("attempt to corrupt spilled pointer on stack");
        ScrubSpill(ref s);
        for (var a = minOff; a < maxOff; a++)
            SetByteType(frame, a, isZero ? StackByte.Zero : StackByte.Misc);
        return default;
    }

    /// <summary>save_register_state: the low <paramref name="size"/> bytes of the slot hold the register.</summary>
    private void SaveRegisterState(ref StackSlot slot, RegState value, int size)
    {
        for (var i = 0; i < 8; i++)
        {
            if (i >= 8 - size)
            {
                slot.Set(i, StackByte.Spill);
                continue;
            }

            // mark_stack_slot_misc: zero bytes stay zero, uninitialised ones stay so under CAP_BPF.
            var t = slot[i];
            if (t == StackByte.Zero || (t == StackByte.Invalid && privileged))
                continue;
            slot.Set(i, StackByte.Misc);
        }

        value.Written = true;
        slot.Spilled = value;
    }

    /// <summary>A partial write into a spilled slot turns the spill's bytes into misc data.</summary>
    private static void ScrubSpill(ref StackSlot slot)
    {
        if (slot[7] != StackByte.Spill && slot[0] != StackByte.Spill)
            return;
        for (var i = 0; i < 8; i++)
        {
            if (slot[i] == StackByte.Spill)
                slot.Set(i, StackByte.Misc);
        }

        slot.Spilled = default;
    }

    private RegState StackRead(int regno, in RegState reg, int off, int size)
    {
        var (minOff, maxOff) = StackBounds(regno, reg, off, size, " read from", write: false);
        var frame = cur.Frames[reg.FrameNo];
        if (reg.VarOff.IsConst)
        {
            var spi = FuncState.SlotOf((int)minOff);
            var slot = frame.Stack[spi];
            frame.ScratchedSlots |= 1UL << spi;
            if (slot[7] == StackByte.Spill)
            {
                var spillSize = 0;
                while (spillSize < 8 && slot[7 - spillSize] == StackByte.Spill)
                    spillSize++;
                if (size == 8 && spillSize == 8)
                    return slot.Spilled;
                if (slot.Spilled.IsPointer)
                    throw Reject("invalid size of register fill");
                if (size <= spillSize && minOff % 8 == 0)
                {
                    // A narrow fill of a spilled scalar keeps its value (the load truncates it).
                    var fill = slot.Spilled;
                    fill.Id = 0;
                    return fill;
                }
            }

            var zeros = 0;
            for (var i = 0; i < size; i++)
            {
                var t = ByteType(frame, minOff + i);
                if (t == StackByte.Invalid && !privileged)
                    throw Reject($"invalid read from stack off {minOff}+{i} size {size}");
                if (t == StackByte.Zero)
                    zeros++;
            }

            return zeros == size ? RegState.Known(0) : RegState.UnknownScalar;
        }

        var allZero = true;
        for (var a = minOff; a < maxOff; a++)
        {
            var spi = (int)((-a - 1) / 8);
            var slot = frame.Stack[spi];
            var t = ByteType(frame, a);
            if (t == StackByte.Spill && slot.Spilled.IsPointer && !privileged)
                throw Reject($"invalid read from stack R{regno} var_off {reg.VarOff}+{reg.Off + off} size {size}");
            if (t == StackByte.Invalid && !privileged)
                throw Reject($"invalid read from stack R{regno} var_off {reg.VarOff}+{reg.Off + off} size {size}");
            if (t != StackByte.Zero)
                allZero = false;
        }

        return allZero ? RegState.Known(0) : RegState.UnknownScalar;
    }
}
