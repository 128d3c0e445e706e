using Kernel.Sim.Bpf.Interpreter;

namespace Kernel.Sim.Bpf.Jit;

/// <summary>
/// A compiled program: run it many times, one run at a time per instance. A run allocates nothing; its
/// result has the interpreter's shape (<see cref="BpfRunResult"/>) except that the JIT counts no executed
/// instructions (<see cref="BpfRunResult.InstructionsExecuted"/> is 0) and never reports out-of-bounds
/// accesses — it does not check them; the verifier proved them safe.
/// </summary>
public sealed unsafe class JittedProgram
{
    private readonly JitEntry _entry;
    private readonly JitRuntime _runtime;

    internal JittedProgram(JitEntry entry, JitRuntime runtime, int instructionCount, int functionCount, TimeSpan compileTime)
    {
        _entry = entry;
        _runtime = runtime;
        InstructionCount = instructionCount;
        FunctionCount = functionCount;
        CompileTime = compileTime;
    }

    /// <summary>Instruction slots of the program (an lddw counts two).</summary>
    public int InstructionCount { get; }

    /// <summary>Emitted methods: the main program plus one per subprogram.</summary>
    public int FunctionCount { get; }

    /// <summary>Time to emit the IL (RyuJIT compiles the methods on the first run, which this excludes).</summary>
    public TimeSpan CompileTime { get; }

    /// <summary>Where <c>bpf_tail_call</c> finds its targets (the prog-array maps); null: every tail call misses.</summary>
    public IBpfTailCallTargets? TailCallTargets
    {
        get => _runtime.TailCallTargets;
        set => _runtime.TailCallTargets = value;
    }

    /// <summary>Runs with r1 = address of <paramref name="memory"/> and r2 = its length (the conformance contract).</summary>
    public BpfRunResult Run(Span<byte> memory)
    {
        fixed (byte* p = memory)
            return Run(p, memory.Length);
    }

    /// <summary>Runs with r1 = <paramref name="memory"/> and r2 = <paramref name="length"/>.</summary>
    public BpfRunResult Run(byte* memory, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var rt = _runtime;
        rt.Reset((nint)memory, length);
        var entry = _entry;
        var r1 = (ulong)memory;
        // Tail calls return here rather than nesting host frames: the bounded loop of Linux's tail_call_cnt.
        while (true)
        {
            var r0 = entry(r1, (ulong)length, 0, 0, 0, rt, 0);
            if (rt.PendingTailCall is { } next)
            {
                rt.PendingTailCall = null;
                rt.Stop = 0;
                entry = next._entry;
                r1 = rt.TailCallContext;
                continue;
            }

            return rt.Error == BpfRunError.None
                ? new BpfRunResult(r0, 0, BpfRunError.None, 0, 0, 0, 0)
                : new BpfRunResult(0, 0, rt.Error, rt.ErrorIndex, 0, 0, rt.ErrorDetail);
        }
    }
}
