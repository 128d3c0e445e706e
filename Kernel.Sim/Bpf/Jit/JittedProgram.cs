using System.Runtime.CompilerServices;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Jit;

/// <summary>
/// A compiled program: run it many times, one run at a time per instance. A run allocates nothing; its
/// result has the interpreter's shape (<see cref="BpfRunResult"/>) except that the JIT counts no executed
/// instructions (<see cref="BpfRunResult.InstructionsExecuted"/> is 0) and never reports out-of-bounds
/// accesses — it does not check them; the verifier proved them safe. A prog array can hold it
/// (<see cref="IBpfProgram"/>): tail calls from JIT'd programs enter JIT'd targets.
/// </summary>
public sealed unsafe class JittedProgram : IBpfProgram
{
    private readonly JitRuntime _runtime;
    private readonly JitRun _run;
    private readonly JitEntry _entry;
    private readonly bool _callsHelpers;
    private readonly int _stackBytesToClear;

    internal JittedProgram(JitRun run, JitEntry entry, JitRuntime runtime, int instructionCount, int functionCount, bool callsHelpers, int stackBytesToClear, TimeSpan compileTime)
    {
        _run = run;
        _entry = entry;
        _runtime = runtime;
        InstructionCount = instructionCount;
        FunctionCount = functionCount;
        CompileTime = compileTime;
        _callsHelpers = callsHelpers;
        // Zero only when asked (BpfJitOptions.ZeroStackPerRun), and then only the frames the program can touch: all 8
        // when a callee uses its stack (as the interpreter clears all), frame 0 when only the main program does.
        _stackBytesToClear = stackBytesToClear;
    }

    /// <summary>The main program's method, taking the run state of the caller (a tail call runs it on the calling program's state).</summary>
    internal JitEntry Entry => _entry;

    /// <summary>The program's name (for prog arrays and messages).</summary>
    public string Name { get; init; } = "";

    /// <summary>Instruction slots of the program (an lddw counts two).</summary>
    public int InstructionCount { get; }

    /// <summary>Emitted methods: the main program's, plus one for each subprogram some call site does not inline.</summary>
    public int FunctionCount { get; }

    /// <summary>Time to emit the IL (RyuJIT compiles the methods on the first run, which this excludes).</summary>
    public TimeSpan CompileTime { get; }

    /// <summary>
    /// Maps tail-call targets held in another form (interpreters in an object loader's prog arrays) to JIT'd
    /// programs; JIT'd programs in the array need nothing. The root program's mapping serves the whole chain.
    /// </summary>
    public IBpfTailCallTargets? TailCallTargets
    {
        get => _runtime.TailCallTargets;
        set => _runtime.TailCallTargets = value;
    }

    /// <summary>Runs with r1 = address of <paramref name="memory"/> and r2 = its length (the conformance contract).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public BpfRunResult Run(Span<byte> memory)
    {
        fixed (byte* p = memory)
            return Run(p, memory.Length);
    }

    /// <summary>
    /// Runs with r1 = <paramref name="memory"/> and r2 = <paramref name="length"/>. The set-up is only what this
    /// program needs (<see cref="JitRuntime.BeginRun"/>). Optimised at once rather than tiered: a caller timing a few
    /// hundred thousand runs should not measure this method's unoptimised tier.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public BpfRunResult Run(byte* memory, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var rt = _runtime;
        rt.BeginRun((nint)memory, length, _callsHelpers, _stackBytesToClear);
        var r0 = _run((ulong)memory, (ulong)length, 0, 0, 0, 0);
        return rt.Stop == 0 ? new BpfRunResult(r0, 0, BpfRunError.None, 0, 0, 0, 0) : rt.EndStoppedRun();
    }
}
