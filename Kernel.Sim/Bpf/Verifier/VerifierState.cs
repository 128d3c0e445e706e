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

    public readonly bool IsSpill => this[0] == StackByte.Spill && Types == 0x0101010101010101UL;

    public readonly bool Equals(StackSlot other) => Types == other.Types && (!IsSpill || Spilled == other.Spilled);

    public override readonly bool Equals(object? obj) => obj is StackSlot s && Equals(s);

    public override readonly int GetHashCode() => Types.GetHashCode();

    public static bool operator ==(StackSlot left, StackSlot right) => left.Equals(right);

    public static bool operator !=(StackSlot left, StackSlot right) => !left.Equals(right);

    /// <summary>Slot filled by a register spill.</summary>
    public static StackSlot Spill(in RegState reg) => new() { Types = 0x0101010101010101UL, Spilled = reg };
}

/// <summary>One call frame (struct bpf_func_state): R0-R10 and the frame's 512-byte stack.</summary>
public sealed class FuncState
{
    public const int RegCount = 11;
    public const int MaxStack = 512;
    public const int SlotCount = MaxStack / 8;

    public readonly RegState[] Regs = new RegState[RegCount];
    public readonly StackSlot[] Stack = new StackSlot[SlotCount];

    /// <summary>Bytes of stack in use (a multiple of 8): the deepest slot touched.</summary>
    public int AllocatedStack;

    /// <summary>The instruction index of the call that created this frame (-1 for the main program).</summary>
    public int CallSite = -1;

    public int FrameNo;

    /// <summary>First instruction of the subprogram this frame runs.</summary>
    public int SubprogStart;

    /// <summary>Scratch marks for the log (which registers and slots changed since the last print).</summary>
    public int ScratchedRegs;
    public ulong ScratchedSlots;

    public FuncState Clone()
    {
        var f = new FuncState { AllocatedStack = AllocatedStack, CallSite = CallSite, FrameNo = FrameNo, SubprogStart = SubprogStart };
        Array.Copy(Regs, f.Regs, RegCount);
        Array.Copy(Stack, f.Stack, SlotCount);
        return f;
    }

    /// <summary>Slot index (spi) of a stack offset from the frame pointer (-1 .. -512).</summary>
    public static int SlotOf(int off) => (-off - 1) / 8;
}

/// <summary>
/// The whole abstract machine state on one path (struct bpf_verifier_state): the frames of the call chain,
/// plus, for checkpoints, the links the pruning logic needs (the parent checkpoint and how many paths from
/// it are still being explored).
/// </summary>
public sealed class VerifierState
{
    public FuncState[] Frames = new FuncState[Verifier.MaxCallFrames];
    public int CurFrame;

    /// <summary>The latest checkpoint on this path.</summary>
    public VerifierState? Parent;

    /// <summary>Paths descending from this checkpoint that have not finished (0 = fully verified safe).</summary>
    public int Branches;

    /// <summary>Instruction this checkpoint was taken at.</summary>
    public int InsnIdx;

    /// <summary>References acquired and not yet released (id, instruction that acquired it).</summary>
    public (int Id, int Insn)[] Refs = [];

    /// <summary>Hash of the live part of a checkpoint, to find exact repeats (loops) quickly.</summary>
    public long Hash;

    public int HitCount;
    public int MissCount;

    public FuncState Cur => Frames[CurFrame];

    public VerifierState Clone()
    {
        var s = new VerifierState { CurFrame = CurFrame, Parent = Parent, Refs = Refs };
        for (var i = 0; i <= CurFrame; i++)
            s.Frames[i] = Frames[i].Clone();
        return s;
    }
}
