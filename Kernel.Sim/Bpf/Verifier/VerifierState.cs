namespace Kernel.Sim.Bpf.Verifier;

/// <summary>What one stack byte holds (enum bpf_stack_slot_type).</summary>
public enum StackByte : byte
{
    /// <summary>Never written.</summary>
    Invalid,

    /// <summary>Part of a spilled register (the whole 8-byte slot).</summary>
    Spill,

    /// <summary>Written with something the verifier does not track.</summary>
    Misc,

    /// <summary>Known zero.</summary>
    Zero,
}

/// <summary>One 8-byte stack slot (struct bpf_stack_state): its byte types and the register spilled into it.</summary>
public struct StackSlot : IEquatable<StackSlot>
{
    /// <summary>Byte types, one per byte, in the kernel's order: index 7 is the lowest address (fp-8 of the slot).</summary>
    public ulong Types;

    public RegState Spilled;

    public readonly StackByte this[int i] => (StackByte)((Types >> (i * 8)) & 0xff);

    public void Set(int i, StackByte type) => Types = (Types & ~(0xffUL << (i * 8))) | ((ulong)type << (i * 8));

    /// <summary>True when some byte is <see cref="StackByte.Spill"/> (the only byte type whose low bit is set and next bit clear).</summary>
    public readonly bool HasSpillByte => (Types & ~(Types >> 1) & 0x0101010101010101UL) != 0;

    public readonly bool IsSpill => this[0] == StackByte.Spill && Types == 0x0101010101010101UL;

    public readonly bool Equals(StackSlot other) => Types == other.Types && (!IsSpill || Spilled == other.Spilled);

    public override readonly bool Equals(object? obj) => obj is StackSlot s && Equals(s);

    public override readonly int GetHashCode() => Types.GetHashCode();

    public static bool operator ==(StackSlot left, StackSlot right) => left.Equals(right);

    public static bool operator !=(StackSlot left, StackSlot right) => !left.Equals(right);

    /// <summary>Slot filled by a register spill.</summary>
    public static StackSlot Spill(in RegState reg) => new() { Types = 0x0101010101010101UL, Spilled = reg };
}

/// <summary>
/// One call frame (struct bpf_func_state): R0-R10 and the frame's stack. Like Linux's allocated_stack, the
/// slot array holds only the slots in use, so copying a frame (every branch and checkpoint does) costs its
/// registers plus the stack it touched rather than 512 bytes of slots each carrying a register state.
/// </summary>
public sealed class FuncState
{
    public const int RegCount = 11;
    public const int MaxStack = 512;
    public const int SlotCount = MaxStack / 8;

    public readonly RegState[] Regs = new RegState[RegCount];

    /// <summary>
    /// Slots by spi (0 is fp-8 .. fp-1); at least <see cref="AllocatedStack"/> / 8 long. Slots at and beyond
    /// <see cref="SlotsInUse"/> are always default (never written), so growing needs no clearing.
    /// </summary>
    public StackSlot[] Stack { get; private set; } = [];

    /// <summary>Bytes of stack in use (a multiple of 8): the deepest slot touched. Only <see cref="GrowStack"/> raises it.</summary>
    public int AllocatedStack { get; private set; }

    /// <summary>The instruction index of the call that created this frame (-1 for the main program).</summary>
    public int CallSite = -1;

    public int FrameNo;

    /// <summary>First instruction of the subprogram this frame runs.</summary>
    public int SubprogStart;

    /// <summary>Scratch marks for the log (which registers and slots changed since the last print).</summary>
    public int ScratchedRegs;
    public ulong ScratchedSlots;

    /// <summary>Slots below <see cref="AllocatedStack"/>.</summary>
    public int SlotsInUse => AllocatedStack / 8;

    /// <summary>The slots in use.</summary>
    public Span<StackSlot> UsedSlots => Stack.AsSpan(0, SlotsInUse);

    /// <summary>Makes at least <paramref name="bytes"/> (rounded up to a slot) of stack addressable (grow_stack_state).</summary>
    public void GrowStack(int bytes)
    {
        var rounded = (bytes + 7) / 8 * 8;
        if (rounded <= AllocatedStack)
            return;
        var slots = rounded / 8;
        if (slots > Stack.Length)
        {
            var grown = Stack;
            Array.Resize(ref grown, Math.Min(SlotCount, Math.Max(slots, Stack.Length * 2)));
            Stack = grown;
        }

        AllocatedStack = rounded;
    }

    /// <summary>Makes this frame a copy of <paramref name="src"/> (copy_func_state), reusing its arrays.</summary>
    public void CopyFrom(FuncState src)
    {
        src.Regs.AsSpan().CopyTo(Regs);
        CopyAllButRegs(src);
    }

    /// <summary>
    /// Like <see cref="CopyFrom(FuncState)"/>, but only the registers in <paramref name="regMask"/> (bit r for Rr);
    /// the others keep whatever they held and must never be read (see <c>VerifierState.CopyLiveFrom</c>).
    /// </summary>
    public void CopyFrom(FuncState src, int regMask)
    {
        for (var m = regMask & ((1 << RegCount) - 1); m != 0; m &= m - 1)
        {
            var r = System.Numerics.BitOperations.TrailingZeroCount(m);
            Regs[r] = src.Regs[r];
        }

        CopyAllButRegs(src);
    }

    private void CopyAllButRegs(FuncState src)
    {
        var slots = src.SlotsInUse;
        if (Stack.Length < slots)
            Stack = new StackSlot[src.Stack.Length];
        else if (SlotsInUse > slots)
            Array.Clear(Stack, slots, SlotsInUse - slots);
        src.Stack.AsSpan(0, slots).CopyTo(Stack);
        AllocatedStack = src.AllocatedStack;
        CallSite = src.CallSite;
        FrameNo = src.FrameNo;
        SubprogStart = src.SubprogStart;
        ScratchedRegs = 0;
        ScratchedSlots = 0;
    }

    /// <summary>Makes this an empty frame: no stack, every register NOT_INIT, R10 the frame pointer of <paramref name="frameNo"/>.</summary>
    public void Reset(int frameNo, int callSite, int subprogStart)
    {
        Regs.AsSpan().Fill(RegState.NotInit);
        Regs[10] = RegState.Pointer(RegType.PtrToStack);
        Regs[10].FrameNo = frameNo;
        Array.Clear(Stack, 0, SlotsInUse);
        AllocatedStack = 0;
        FrameNo = frameNo;
        CallSite = callSite;
        SubprogStart = subprogStart;
        ScratchedRegs = 0;
        ScratchedSlots = 0;
    }

    /// <summary>Slot index (spi) of a stack offset from the frame pointer (-1 .. -512).</summary>
    public static int SlotOf(int off) => (-off - 1) / 8;
}

/// <summary>
/// The whole abstract machine state on one path (struct bpf_verifier_state): the frames of the call chain,
/// plus, for checkpoints, the links the pruning logic needs (the parent checkpoint and how many paths from
/// it are still being explored). The verifier recycles states (see <c>Verifier.CopyState</c>), so frames
/// above <see cref="CurFrame"/> may hold stale objects kept for reuse.
/// </summary>
public sealed class VerifierState
{
    public readonly FuncState[] Frames = new FuncState[Verifier.MaxCallFrames];
    public int CurFrame;

    /// <summary>The latest checkpoint on this path.</summary>
    public VerifierState? Parent;

    /// <summary>Paths descending from this checkpoint that have not finished (0 = fully verified safe).</summary>
    public int Branches;

    /// <summary>Instruction this checkpoint was taken at.</summary>
    public int InsnIdx;

    /// <summary>References acquired and not yet released (id, instruction that acquired it); never changed in place.</summary>
    public (int Id, int Insn)[] Refs = [];

    /// <summary>Hash of the live part of a checkpoint, to find exact repeats (loops) quickly.</summary>
    public long Hash;

    public int HitCount;
    public int MissCount;

    /// <summary>The next checkpoint in the same list (explored states of an instruction, or a hash chain of unfinished ones).</summary>
    public VerifierState? Next;

    public FuncState Cur => Frames[CurFrame];

    /// <summary>Makes this state a copy of <paramref name="src"/>'s path state (copy_verifier_state); checkpoint bookkeeping starts afresh.</summary>
    public void CopyFrom(VerifierState src)
    {
        CurFrame = src.CurFrame;
        Parent = src.Parent;
        Refs = src.Refs;
        for (var i = 0; i <= CurFrame; i++)
            (Frames[i] ??= new FuncState()).CopyFrom(src.Frames[i]);
        ResetCheckpointFields();
    }

    /// <summary>
    /// A copy of <paramref name="src"/> for a checkpoint, which is only ever compared (states_equal) at its own
    /// instruction, where only the live registers are looked at: <paramref name="liveRegs"/> of the current
    /// frame and <paramref name="callerLiveRegs"/> of the callers. Dead registers are not copied (Linux's
    /// clean_live_states marks them NOT_INIT for the same reason); a branchy program's checkpoints copy a few
    /// registers instead of eleven 96-byte ones.
    /// </summary>
    public void CopyLiveFrom(VerifierState src, int liveRegs, int callerLiveRegs)
    {
        CurFrame = src.CurFrame;
        Parent = src.Parent;
        Refs = src.Refs;
        for (var i = 0; i <= CurFrame; i++)
            (Frames[i] ??= new FuncState()).CopyFrom(src.Frames[i], i == CurFrame ? liveRegs : callerLiveRegs);
        ResetCheckpointFields();
    }

    private void ResetCheckpointFields()
    {
        Branches = 0;
        InsnIdx = 0;
        Hash = 0;
        HitCount = 0;
        MissCount = 0;
        Next = null;
    }
}
