using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Jit;
using Kernel.Sim.Bpf.Verifier;
using BpfVerifier = Kernel.Sim.Bpf.Verifier.Verifier;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>The engines the <c>bpf</c> verbs can run a raw (conformance-convention) program on.</summary>
internal static class BpfEngine
{
    public const string Interpreter = "interp";
    public const string Jit = "jit";

    public static readonly string[] Names = [Interpreter, Jit];

    public static void CheckName(string engine)
    {
        if (engine is not (Interpreter or Jit))
            throw new CliUsageException($"unknown or unavailable engine '{engine}' (available: {string.Join(", ", Names)})");
    }

    /// <summary>Loads and runs once; a malformed program throws <see cref="BpfDecodeException"/>, a rejected one <see cref="BpfRejectedException"/>.</summary>
    public static BpfRunResult Run(string engine, Instruction[] program, byte[] memory, bool verify = true) =>
        Load(engine, program, memory, verify).Run(memory);

    /// <summary>
    /// Loads <paramref name="program"/> on <paramref name="engine"/>. The JIT does not check memory accesses, so it
    /// only takes a program the verifier accepted (as a raw program over <paramref name="memory"/>'s size); with
    /// <paramref name="verify"/> off it takes a program whose checked-interpreter run on this same input was
    /// memory-safe (a deterministic program then takes the same, safe path on the JIT).
    /// </summary>
    public static IBpfRunner Load(string engine, Instruction[] program, byte[] memory, bool verify = true)
    {
        CheckName(engine);
        var helpers = HelperRegistry.CreateConformance();
        if (engine == Interpreter)
            return new InterpreterRunner(new BpfInterpreter(program, helpers));

        ProgramValidator.Validate(program);
        if (verify)
        {
            var verdict = BpfVerifier.Verify(program, new VerifierOptions { MemSize = memory.Length });
            if (!verdict.Accepted)
                throw new BpfRejectedException($"the verifier rejected the program, so the JIT will not run it (--no-verify runs it if the checked interpreter finds this input safe): {verdict.Error}");
        }
        else
        {
            var dryRun = new BpfInterpreter(program, helpers).Run([.. memory]);
            if (dryRun.Error is BpfRunError.OutOfBounds or BpfRunError.MisalignedAtomic or BpfRunError.BudgetExceeded)
                throw new BpfRejectedException($"the checked interpreter's run of this input is unsafe, so the JIT will not run it: {dryRun.Message}");
        }

        return new JitRunner(BpfJit.Compile(program, helpers));
    }

    /// <summary>A loaded program: run it as often as needed.</summary>
    internal interface IBpfRunner
    {
        BpfRunResult Run(byte[] memory);
    }

    private sealed class InterpreterRunner(BpfInterpreter interpreter) : IBpfRunner
    {
        public BpfRunResult Run(byte[] memory) => interpreter.Run(memory);
    }

    private sealed class JitRunner(JittedProgram program) : IBpfRunner
    {
        public BpfRunResult Run(byte[] memory) => program.Run(memory);
    }
}

/// <summary>The engine refused the program (the JIT's safety gate); the message says why.</summary>
internal sealed class BpfRejectedException(string message) : Exception(message);
