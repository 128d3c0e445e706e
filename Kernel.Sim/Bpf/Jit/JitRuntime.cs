using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;

namespace Kernel.Sim.Bpf.Jit;

/// <summary>
/// The state one run of JIT'd code shares between its methods (main program, subprograms, tail-call targets):
/// the input memory for LD_ABS/LD_IND, what helpers receive, and how the run ends early (a stop-on-zero helper,
/// an error the interpreter would also report, a tail call). One instance per <see cref="JittedProgram"/>,
/// allocated at compile time, so a run allocates nothing. Fields, not properties: the emitted IL reads them
/// with <c>ldfld</c>.
/// </summary>
internal sealed class JitRuntime
{
    /// <summary>Linux's MAX_TAIL_CALL_CNT: tail calls one run may chain.</summary>
    public const int MaxTailCallCount = 33;

    public JitRuntime(HelperContext context) => Context = context;

    /// <summary>Passed to every helper as its last argument.</summary>
    public readonly HelperContext Context;

    /// <summary>Nonzero once the run must unwind: every method returns 0 at once and callers check after each local call.</summary>
    public int Stop;

    public BpfRunError Error;
    public int ErrorIndex;
    public long ErrorDetail;

    /// <summary>Input memory (r1/r2 of the raw convention), for the legacy packet loads.</summary>
    public nint Memory;
    public int MemoryLength;

    /// <summary>Where prog-array tail calls look their target up; null means every tail call misses.</summary>
    public IBpfTailCallTargets? TailCallTargets;

    /// <summary>Tail calls taken so far in this run (tail_call_cnt in Linux).</summary>
    public int TailCallCount;

    /// <summary>The program a successful tail call continues with, and its r1.</summary>
    public JittedProgram? PendingTailCall;
    public ulong TailCallContext;

    public void Reset(nint memory, int length)
    {
        Stop = 0;
        Error = BpfRunError.None;
        ErrorIndex = 0;
        ErrorDetail = 0;
        Memory = memory;
        MemoryLength = length;
        TailCallCount = 0;
        PendingTailCall = null;
        TailCallContext = 0;
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
    /// bpf_tail_call(ctx, prog_array, index): true when the target exists and the chain is below
    /// <see cref="MaxTailCallCount"/>; the current program then unwinds and <see cref="JittedProgram"/>'s run loop
    /// enters the target. False (a miss) lets the program continue after the call, as in Linux.
    /// </summary>
    public static bool TryTailCall(ulong context, ulong progArray, ulong index, JitRuntime runtime)
    {
        if (runtime.TailCallTargets is not { } targets || runtime.TailCallCount >= MaxTailCallCount)
            return false;
        // Linux compares the u32 index with max_entries: the upper half of r3 is ignored.
        if (targets.Find(progArray, (uint)index) is not { } target)
            return false;
        runtime.TailCallCount++;
        runtime.PendingTailCall = target;
        runtime.TailCallContext = context;
        runtime.Stop = 1;
        return true;
    }
}

/// <summary>
/// The prog-array side of tail calls for JIT'd programs: the map implementation (BPF_MAP_TYPE_PROG_ARRAY)
/// answers which compiled program sits at an index of the array whose address the program passed in r2.
/// </summary>
public interface IBpfTailCallTargets
{
    /// <summary>The program at <paramref name="index"/> of the prog array at <paramref name="progArray"/>, or null (a miss).</summary>
    JittedProgram? Find(ulong progArray, uint index);
}
