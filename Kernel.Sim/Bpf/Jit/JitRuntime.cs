using System.Runtime.CompilerServices;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;

namespace Kernel.Sim.Bpf.Jit;

/// <summary>
/// The state one run of JIT'd code shares between its methods (main program, subprograms, tail-call targets):
/// the BPF stack, the input memory for LD_ABS/LD_IND, what helpers receive, and how the run ends early (a
/// stop-on-zero helper, an error the interpreter would also report). One instance per <see cref="JittedProgram"/>,
/// allocated at compile time, so a run allocates nothing. Fields, not properties: the emitted IL reads them
/// with <c>ldfld</c>.
/// </summary>
internal sealed unsafe class JitRuntime
{
    /// <summary>MAX_CALL_FRAMES frames of 512 bytes, as the interpreter's stack.</summary>
    public const int StackBytes = BpfInterpreterOptions.MaxCallFrames * BpfInterpreterOptions.FrameSize;

    // Pinned for the program's lifetime: frame addresses are real, stable pointers (R10 of frame d is
    // StackTop - d * 512), and the helper context can tell helpers where the stack is.
    private readonly byte[] _stack = GC.AllocateArray<byte>(StackBytes, pinned: true);

    public JitRuntime(HelperContext context)
    {
        Context = context;
        fixed (byte* p = _stack)
            StackBase = (ulong)p;
        StackTop = StackBase + StackBytes;
    }

    /// <summary>Passed to every helper as its last argument.</summary>
    public readonly HelperContext Context;

    public readonly ulong StackBase;

    /// <summary>R10 of the main program; frame d (call depth d) has R10 = StackTop - d * 512.</summary>
    public readonly ulong StackTop;

    /// <summary>Nonzero once the run must unwind: every method returns 0 at once and callers check after each local call.</summary>
    public int Stop;

    public BpfRunError Error;
    public int ErrorIndex;
    public long ErrorDetail;

    /// <summary>Input memory (r1/r2 of the raw convention), for the legacy packet loads.</summary>
    public nint Memory;
    public int MemoryLength;

    /// <summary>R0 of a tail-call target, returned by the method that made the tail call.</summary>
    public ulong TailCallResult;

    /// <summary>Finds the JIT'd form of a tail-call target that a prog array holds in another form (an interpreter).</summary>
    public IBpfTailCallTargets? TailCallTargets;

    /// <summary>
    /// The per-run set-up, only what the program needs: the input for LD_ABS/LD_IND (two stores, always, since a
    /// tail-call target may use them), the helper context's view of this run (only when the program calls helpers)
    /// and zeroed frames (only when asked: see <see cref="BpfJitOptions.ZeroStackPerRun"/>). <see cref="Stop"/> and the
    /// error need no reset: they are cleared when a run that set them ends (<see cref="EndStoppedRun"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void BeginRun(nint memory, int length, bool callsHelpers, int stackBytesToClear)
    {
        Memory = memory;
        MemoryLength = length;
        if (stackBytesToClear != 0)
            _stack.AsSpan(StackBytes - stackBytesToClear).Clear();
        if (callsHelpers)
            Context.BeginRun(StackBase, StackBytes, (ulong)memory, (ulong)length);
    }

    /// <summary>The result of a run that set <see cref="Stop"/> (an error, or an unwind with r0 = 0); clears the stop state for the next run.</summary>
    public BpfRunResult EndStoppedRun()
    {
        var result = Error == BpfRunError.None
            ? new BpfRunResult(0, 0, BpfRunError.None, 0, 0, 0, 0)
            : new BpfRunResult(0, 0, Error, ErrorIndex, 0, 0, ErrorDetail);
        Stop = 0;
        Error = BpfRunError.None;
        ErrorIndex = 0;
        ErrorDetail = 0;
        return result;
    }

    /// <summary>Ends the run with the error the interpreter reports at the same instruction (called from IL).</summary>
    public static void Fail(JitRuntime runtime, int error, int index, long detail)
    {
        runtime.Stop = 1;
        runtime.Error = (BpfRunError)error;
        runtime.ErrorIndex = index;
        runtime.ErrorDetail = detail;
    }

    /// <summary>Ends the run normally with r0 = 0 (the conformance unwind helper returned 0; LD_ABS out of bounds).</summary>
    public static void StopRun(JitRuntime runtime) => runtime.Stop = 1;

    /// <summary>
    /// After a <see cref="HelperFlags.TailCall"/> helper (bpf_tail_call, which checked the prog array, the index and
    /// MAX_TAIL_CALL_CNT): if it chose a JIT'd program, runs it in place of the caller — same registers, same
    /// frame (depth) — and returns true with its r0 in <see cref="TailCallResult"/>; the calling method then
    /// returns that r0, so a tail call from a subprogram returns to the subprogram's caller, as in Linux. A miss,
    /// or a target of another engine that <see cref="TailCallTargets"/> cannot map, returns false and the program
    /// continues after the call. The target's code runs with the caller's run state (this runtime: its helper context,
    /// stack and tail-call count), not the state of the instance the prog array holds: a prog array holds one copy
    /// (the object loader's, bound to CPU 0's helper context), and the per-CPU copy running on CPU n thereby tail-calls
    /// CPU n's copy of the target — its helpers see CPU n and it uses CPU n's stack.
    /// </summary>
    public static bool EnterTailCall(JitRuntime runtime, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, int depth)
    {
        var chosen = runtime.Context.PendingTailCall;
        if (chosen is null)
            return false;
        runtime.Context.PendingTailCall = null;
        // r2/r3 are still the helper's prog array and index: a loader whose arrays hold interpreters maps them.
        var target = chosen as JittedProgram ?? runtime.TailCallTargets?.Find(r2, (uint)r3);
        if (target is null)
            return false;
        runtime.TailCallResult = target.Entry(runtime, r1, r2, r3, r4, r5, depth);
        return true;
    }
}

/// <summary>
/// For loaders whose prog arrays hold another engine's programs (an object loader keeps interpreters there): maps the
/// slot bpf_tail_call chose to its JIT'd form. The helper has already checked the array, the index and the
/// tail-call limit; this only translates.
/// </summary>
public interface IBpfTailCallTargets
{
    /// <summary>The JIT'd program at <paramref name="index"/> of the prog array at <paramref name="progArray"/>, or null (a miss).</summary>
    JittedProgram? Find(ulong progArray, uint index);
}
