using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Verifier;

public sealed partial class Verifier
{
    private const string MemTypesExpected = "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_";

    /// <summary>check_func_call: a bpf-to-bpf call gets a new frame with the caller's R1-R5.</summary>
    private int CheckFuncCall(Instruction insn)
    {
        var target = insnIdx + insn.Imm + 1;
        if (cur.CurFrame + 1 >= MaxCallFrames)
            throw Reject($"the call stack of {cur.CurFrame + 2} frames is too deep !");
        var caller = Frame;
        var callee = cur.Frames[cur.CurFrame + 1] ??= new FuncState();
        callee.Reset(cur.CurFrame + 1, insnIdx, target);
        caller.Regs.AsSpan(1, 5).CopyTo(callee.Regs.AsSpan(1));
        caller.Regs.AsSpan(0, 6).Fill(RegState.NotInit);
        cur.CurFrame++;
        callee.ScratchedRegs = 0x7ff;
        return target;
    }

    private readonly record struct CallMeta(int MapIndex, int AllocSize);

    /// <summary>check_helper_call: the prototype's argument checks, then R0 and clobbered R1-R5.</summary>
    private void CheckHelperCall(Instruction insn)
    {
        var id = insn.Imm;
        if (id < 0 || id >= HelperPrototypes.MaxId)
            throw Reject($"invalid func {HelperPrototypes.LogName(id)}#{id}");
        if (!HelperPrototypes.All.TryGetValue(id, out var proto) || !progType.IsHelperAllowed(proto) || (!privileged && NeedsPrivilege(id)))
            throw Reject($"program of this type cannot use helper {HelperPrototypes.LogName(id)}#{id}");

        var meta = new CallMeta(-1, 0);
        var releaseRef = 0;
        for (var a = 0; a < proto.Args.Length; a++)
        {
            var regno = a + 1;
            var arg = proto.Args[a];
            if (arg == ArgType.DontCare)
                break;
            CheckRegRead(regno);
            var reg = Reg(regno);
            switch (arg)
            {
                case ArgType.Anything:
                    if (IsPointerValue(regno))
                        throw Reject($"R{regno} leaks addr into helper function");
                    break;
                case ArgType.ConstMapPtr:
                    if (reg.Type != RegType.ConstPtrToMap)
                        throw Reject($"R{regno} type={RegTypeNames.Name(reg.Type)} expected=map_ptr");
                    meta = meta with { MapIndex = reg.MapIndex };
                    break;
                case ArgType.PtrToMapKey:
                case ArgType.PtrToMapValue:
                    {
                        if (meta.MapIndex < 0)
                            throw Reject(arg == ArgType.PtrToMapKey ? "invalid map_ptr to access map->key" : "invalid map_ptr to access map->value");
                        if (!IsMemArgType(reg.Type))
                            throw Reject($"R{regno} type={RegTypeNames.Name(reg.Type)} expected={MemTypesExpected}");
                        var map = maps[meta.MapIndex];
                        CheckHelperMemAccess(regno, arg == ArgType.PtrToMapKey ? map.KeySize : map.ValueSize, write: false);
                        break;
                    }

                case ArgType.PtrToMem:
                case ArgType.PtrToUninitMem:
                    if (!IsMemArgType(reg.Type))
                        throw Reject($"R{regno} type={RegTypeNames.Name(reg.Type)} expected={MemTypesExpected}");
                    break;
                case ArgType.ConstSize:
                case ArgType.ConstSizeOrZero:
                    CheckMemSizeReg(regno, arg == ArgType.ConstSizeOrZero, proto.Args[a - 1] == ArgType.PtrToUninitMem);
                    break;
                case ArgType.ConstAllocSizeOrZero:
                    if (!reg.IsScalar)
                        throw Reject($"R{regno} type={RegTypeNames.Name(reg.Type)} expected=scalar");
                    if (!reg.IsConst)
                        throw Reject($"R{regno} is not a known constant'");
                    meta = meta with { AllocSize = (int)Math.Min(reg.VarOff.Value, int.MaxValue) };
                    break;
                case ArgType.PtrToCtx:
                    if (reg.Type != RegType.PtrToCtx)
                        throw Reject($"R{regno} type={RegTypeNames.Name(reg.Type)} expected=ctx");
                    if (reg.Off != 0)
                        throw Reject($"dereference of modified ctx ptr R{regno} off={reg.Off} disallowed");
                    break;
                case ArgType.PtrToRingbufMemRelease:
                    if (reg.Type != RegType.PtrToMem || reg.RefObjId == 0)
                        throw Reject($"R{regno} type={RegTypeNames.Name(reg.Type)} expected=ringbuf_mem");
                    if (reg.Off != 0 || !reg.VarOff.IsConst || reg.VarOff.Value != 0)
                        throw Reject($"R{regno} must have zero offset when passed to release func");
                    releaseRef = reg.RefObjId;
                    break;
            }
        }

        CheckMapFuncCompatibility(proto, meta.MapIndex);
        if (releaseRef != 0)
            ReleaseReference(releaseRef);

        for (var r = 1; r <= 5; r++)
        {
            Reg(r) = RegState.NotInit;
            Scratch(r);
        }

        switch (proto.Ret)
        {
            case RetType.Integer:
                SetReg(0, RegState.UnknownScalar);
                break;
            case RetType.Void:
                Reg(0) = RegState.NotInit;
                Scratch(0);
                break;
            case RetType.PtrToMapValueOrNull:
                {
                    if (meta.MapIndex < 0 || !maps[meta.MapIndex].HasValues)
                        throw Reject($"cannot pass map_type {(int)(meta.MapIndex < 0 ? 0 : maps[meta.MapIndex].Type)} into func {proto.LogName}#{id}");
                    var r0 = RegState.Pointer(RegType.PtrToMapValueOrNull);
                    r0.MapIndex = meta.MapIndex;
                    r0.Id = ++idGen;
                    SetReg(0, r0);
                    break;
                }

            case RetType.PtrToRingbufMemOrNull:
                {
                    var r0 = RegState.Pointer(RegType.PtrToMemOrNull);
                    r0.MemSize = meta.AllocSize;
                    r0.Id = ++idGen;
                    r0.RefObjId = r0.Id;
                    cur.Refs = [.. cur.Refs, (r0.Id, insnIdx)];
                    SetReg(0, r0);
                    break;
                }
        }
    }

    /// <summary>Helpers bpf_base_func_proto only gives CAP_PERFMON holders (trace_printk, probe_read_kernel*, current task data).</summary>
    private static bool NeedsPrivilege(int id) => id is 6 or 14 or 16 or 113 or 115;

    private static bool IsMemArgType(RegType t) => t is RegType.PtrToStack or RegType.PtrToPacket or RegType.PtrToPacketMeta
        or RegType.PtrToMapKey or RegType.PtrToMapValue or RegType.PtrToMem;

    private void ReleaseReference(int refId)
    {
        cur.Refs = Array.FindAll(cur.Refs, r => r.Id != refId);
        for (var f = 0; f <= cur.CurFrame; f++)
        {
            var frame = cur.Frames[f];
            for (var r = 0; r < FuncState.RegCount; r++)
            {
                if (frame.Regs[r].RefObjId == refId)
                    frame.Regs[r] = privileged ? RegState.UnknownScalar : RegState.NotInit;
            }

            foreach (ref var slot in frame.UsedSlots)
            {
                if (slot.IsSpill && slot.Spilled.RefObjId == refId)
                    slot.Spilled = RegState.UnknownScalar;
            }
        }
    }

    /// <summary>check_map_func_compatibility: special maps go only to their own helpers and vice versa.</summary>
    private void CheckMapFuncCompatibility(HelperPrototype proto, int mapIndex)
    {
        if (mapIndex < 0)
            return;
        var type = maps[mapIndex].Type;
        var ok = proto.Id switch
        {
            12 => type == BpfMapType.ProgArray,
            25 => type == BpfMapType.PerfEventArray,
            130 or 131 => type == BpfMapType.Ringbuf,
            1 => type is not (BpfMapType.ProgArray or BpfMapType.PerfEventArray or BpfMapType.Ringbuf or BpfMapType.UserRingbuf),
            2 or 3 => type is not (BpfMapType.ProgArray or BpfMapType.PerfEventArray or BpfMapType.Ringbuf or BpfMapType.UserRingbuf),
            _ => true,
        };
        if (!ok)
            throw Reject($"cannot pass map_type {(int)type} into func {proto.LogName}#{proto.Id}");
    }

    /// <summary>check_mem_size_reg: the size argument bounds the memory argument before it.</summary>
    private void CheckMemSizeReg(int regno, bool zeroAllowed, bool write)
    {
        var reg = Reg(regno);
        if (!reg.IsScalar)
            throw Reject($"R{regno} type={RegTypeNames.Name(reg.Type)} expected=scalar");
        if (reg.SMin < 0)
            throw Reject($"R{regno} min value is negative, either use unsigned index or do a if (index >=0) check.");
        if (reg.UMin == 0 && !zeroAllowed)
            throw Reject($"R{regno} invalid zero-sized read: u64=[{reg.UMin},{reg.UMax}]");
        if (reg.UMax >= MaxVarOff)
            throw Reject($"R{regno} unbounded memory access, use 'var &= const' or 'if (var < const)'");
        if (reg.UMax == 0)
            return;
        CheckHelperMemAccess(regno - 1, (int)reg.UMax, write);
    }

    /// <summary>check_helper_mem_access: <paramref name="size"/> bytes at the pointer are accessible (and initialised when read).</summary>
    private void CheckHelperMemAccess(int regno, int size, bool write)
    {
        var reg = Reg(regno);
        switch (reg.Type)
        {
            case RegType.PtrToStack:
                {
                    long minOff, maxOff;
                    if (reg.VarOff.IsConst)
                    {
                        minOff = (long)reg.VarOff.Value + reg.Off;
                        maxOff = minOff + size;
                    }
                    else
                    {
                        if (reg.SMax >= MaxVarOff || reg.SMin <= -MaxVarOff)
                            throw Reject($"invalid unbounded variable-offset indirect access to stack R{regno}");
                        minOff = reg.SMin + reg.Off;
                        maxOff = reg.SMax + reg.Off + size;
                    }

                    var minValid = write || privileged ? -FuncState.MaxStack : -cur.Frames[reg.FrameNo].AllocatedStack;
                    if (minOff < minValid || maxOff > 0)
                        throw Reject(reg.VarOff.IsConst
                            ? $"invalid indirect access to stack R{regno} off={minOff} size={size}"
                            : $"invalid variable-offset indirect access to stack R{regno} var_off={reg.VarOff} off={reg.Off} size={size}");
                    var frame = cur.Frames[reg.FrameNo];
                    GrowStack(frame, (int)-minOff);
                    for (var a = minOff; a < maxOff; a++)
                    {
                        var spi = (int)((-a - 1) / 8);
                        ref var slot = ref frame.Stack[spi];
                        var t = ByteType(frame, a);
                        if (write)
                        {
                            if (slot.IsSpill && slot.Spilled.IsPointer && !privileged)
                                throw Reject($"invalid indirect access to stack R{regno} off={minOff} size={size}");
                            if (slot.IsSpill)
                                ScrubSpill(ref slot);
                            SetByteType(frame, a, StackByte.Misc);
                            frame.ScratchedSlots |= 1UL << spi;
                        }
                        else if ((t == StackByte.Invalid && !privileged) || (t == StackByte.Spill && slot.Spilled.IsPointer && !privileged))
                        {
                            throw Reject(reg.VarOff.IsConst
                                ? $"invalid indirect read from stack R{regno} off {minOff}+{a - minOff} size {size}"
                                : $"invalid indirect read from stack R{regno} var_off {reg.VarOff}+{reg.Off} size {size}");
                        }
                    }

                    RecordAccess(AccessKind.Stack);
                    return;
                }

            case RegType.PtrToMapValue:
                CheckMemRegion(regno, reg, reg.Off, size, maps[reg.MapIndex].ValueSize, "map value", $"value_size={maps[reg.MapIndex].ValueSize}");
                return;
            case RegType.PtrToMapKey:
                if (write)
                    throw Reject($"write to change key R{regno} not allowed");
                CheckMemRegion(regno, reg, reg.Off, size, maps[reg.MapIndex].KeySize, "map key", $"key_size={maps[reg.MapIndex].KeySize}");
                return;
            case RegType.PtrToMem:
                CheckMemRegion(regno, reg, reg.Off, size, reg.MemSize, "memory", $"mem_size={reg.MemSize}");
                return;
            case RegType.PtrToPacket:
            case RegType.PtrToPacketMeta:
                if (reg.SMin < 0)
                    throw Reject($"R{regno} min value is negative, either use unsigned index or do a if (index >=0) check.");
                if (reg.Off < 0 || (long)reg.Off + size > reg.Range)
                    throw Reject($"invalid access to packet, off={reg.Off} size={size}, R{regno}(id={reg.Id},off={reg.Off},r={reg.Range})\nR{regno} offset is outside of the packet");
                return;
            default:
                throw Reject($"R{regno} type={RegTypeNames.Name(reg.Type)} expected={MemTypesExpected}");
        }
    }

    /// <summary>check_max_stack_depth: the stacks of every call chain together stay within 512 bytes.</summary>
    private void CheckMaxStackDepth()
    {
        var n = cfg.SubprogStarts.Count;
        var best = new int[n];
        for (var s = 0; s < n; s++)
            best[s] = -1;
        int Depth(int s, int frames)
        {
            if (frames > MaxCallFrames)
                return 0;
            var own = RoundUpStack(subprogStackDepth[s]);
            var max = 0;
            foreach (var c in cfg.CallGraph[s])
                max = Math.Max(max, Depth(c, frames + 1));
            return own + max;
        }

        var total = Depth(0, 1);
        if (total > FuncState.MaxStack)
        {
            var frames = CountFrames(0, 1);
            throw Reject($"combined stack size of {frames} calls is {total}. Too large");
        }
    }

    private int CountFrames(int s, int depth)
    {
        var max = depth;
        if (depth > MaxCallFrames)
            return depth;
        foreach (var c in cfg.CallGraph[s])
            max = Math.Max(max, CountFrames(c, depth + 1));
        return max;
    }

    /// <summary>Each frame's stack counts rounded up to 16 bytes, as for JITed programs.</summary>
    private static int RoundUpStack(int depth) => (depth + 15) / 16 * 16;
}
