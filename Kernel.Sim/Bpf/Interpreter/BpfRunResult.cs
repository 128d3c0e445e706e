using System.Globalization;

namespace Kernel.Sim.Bpf.Interpreter;

/// <summary>Why a run ended early.</summary>
public enum BpfRunError
{
    /// <summary>The program reached its outermost exit.</summary>
    None = 0,

    /// <summary>A load, store or atomic outside every allowed region (or a store to read-only memory).</summary>
    OutOfBounds,

    /// <summary>A call to a helper id nothing is registered for.</summary>
    UnknownHelper,

    /// <summary>A jump or local call whose target lies outside the program.</summary>
    JumpOutOfRange,

    /// <summary>Execution ran past the last instruction without an exit.</summary>
    PastEnd,

    /// <summary>More instructions executed than the budget allows.</summary>
    BudgetExceeded,

    /// <summary>A local call beyond the maximum number of frames.</summary>
    CallDepthExceeded,

    /// <summary>An atomic operation on an address not aligned to its size.</summary>
    MisalignedAtomic,

    /// <summary>A slot that cannot execute here: the middle of an lddw, or a form the interpreter does not run (kfunc call).</summary>
    InvalidInstruction,
}

/// <summary>
/// The outcome of one run: r0 and the executed instruction count, or a precise error (instruction index,
/// address, size). A plain struct so a successful run allocates nothing; the message is built only on demand.
/// <see cref="Where"/> places a faulting address next to what it nearly hit (<c>r10+8 in frame 0</c>).
/// </summary>
public readonly record struct BpfRunResult(
    ulong R0,
    long InstructionsExecuted,
    BpfRunError Error,
    int InstructionIndex,
    ulong Address,
    int AccessSize,
    long Detail,
    string? Where = null)
{
    /// <summary><see cref="Detail"/> of <see cref="BpfRunError.InvalidInstruction"/>: the second slot of an lddw was executed.</summary>
    public const long InvalidLddwMiddle = 0;

    /// <summary><see cref="Detail"/> of <see cref="BpfRunError.InvalidInstruction"/>: a kfunc call.</summary>
    public const long InvalidKfunc = 1;

    /// <summary><see cref="Detail"/> of <see cref="BpfRunError.InvalidInstruction"/>: an unresolved pseudo lddw.</summary>
    public const long InvalidPseudoLddw = 2;

    /// <summary>True when the program exited normally.</summary>
    public bool Succeeded => Error == BpfRunError.None;

    /// <summary>The error as one line (<c>insn 3: out-of-bounds read of 4 bytes at 0x...</c>), or empty on success.</summary>
    public string Message => Error switch
    {
        BpfRunError.None => "",
        BpfRunError.OutOfBounds =>
            $"insn {InstructionIndex}: invalid memory access: {(Detail != 0 ? "write" : "read")} of {AccessSize} byte{(AccessSize == 1 ? "" : "s")} at {Hex(Address)}{(Where is null ? "" : $" ({Where})")} is outside the stack, the input memory and every registered region",
        BpfRunError.UnknownHelper => $"insn {InstructionIndex}: call to unknown helper {Detail}",
        BpfRunError.JumpOutOfRange => $"insn {InstructionIndex}: jump out of range to insn {Detail}",
        BpfRunError.PastEnd => $"insn {InstructionIndex}: execution ran past the last instruction without exit",
        BpfRunError.BudgetExceeded => $"insn {InstructionIndex}: instruction budget of {Detail} exceeded",
        BpfRunError.CallDepthExceeded => $"insn {InstructionIndex}: call stack too deep (more than {Detail} frames)",
        BpfRunError.MisalignedAtomic => $"insn {InstructionIndex}: misaligned atomic access of {AccessSize} bytes at {Hex(Address)}",
        BpfRunError.InvalidInstruction => $"insn {InstructionIndex}: {Detail switch
        {
            InvalidLddwMiddle => "jump into the middle of an lddw",
            InvalidKfunc => "kfunc calls cannot run without BTF",
            _ => "lddw with a pseudo source (map, BTF or function reference) must be resolved by the loader first",
        }}",
        _ => $"insn {InstructionIndex}: {Error}",
    };

    /// <summary>Throws <see cref="BpfRuntimeException"/> when the run failed; returns r0 otherwise.</summary>
    public ulong ThrowIfFailed() => Succeeded ? R0 : throw new BpfRuntimeException(this);

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}

/// <summary>A failed run as an exception, for callers that prefer one.</summary>
public sealed class BpfRuntimeException : Exception
{
    public BpfRuntimeException(BpfRunResult result)
        : base(result.Message) => Result = result;

    /// <summary>The failed run.</summary>
    public BpfRunResult Result { get; }
}
