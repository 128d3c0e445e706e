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
    /// Loads <paramref name="program"/> on <paramref name="engine"/>. With <paramref name="verify"/> (the default, as
    /// Linux loads every program) both engines first run the verifier on it as a raw program over
    /// <paramref name="memory"/>'s size and refuse a rejected program with the verifier's log. Without it the
    /// interpreter runs anything (its checks stop an unsafe run), and the JIT, which checks no memory access, takes a
    /// program whose checked-interpreter run on this same input was memory-safe (a deterministic program then takes the
    /// same, safe path on the JIT).
    /// </summary>
    public static IBpfRunner Load(string engine, Instruction[] program, byte[] memory, bool verify = true)
    {
        CheckName(engine);
        var helpers = HelperRegistry.CreateConformance();
        // A malformed program is bad input (exit 2) before it is a verifier rejection.
        ProgramValidator.Validate(program);
        if (verify)
            Verify(program, memory.Length);
        if (engine == Interpreter)
            return new InterpreterRunner(new BpfInterpreter(program, helpers));

        if (!verify)
        {
            var dryRun = new BpfInterpreter(program, helpers).Run([.. memory]);
            if (dryRun.Error is BpfRunError.OutOfBounds or BpfRunError.MisalignedAtomic or BpfRunError.BudgetExceeded)
                throw new BpfRejectedException($"the checked interpreter's run of this input is unsafe, so the JIT will not run it: {dryRun.Message}", "");
        }

        // An unverified program may read stack it never wrote: zero the stack per run, as the interpreter does.
        return new JitRunner(BpfJit.Compile(program, helpers, options: new BpfJitOptions { ZeroStackPerRun = !verify }));
    }

    /// <summary>
    /// The one verification gate of the raw-program verbs: the program as type <c>raw</c> over <paramref name="memSize"/>
    /// bytes, privileged. A rejection throws <see cref="BpfRejectedException"/> carrying the level-1 log (Linux's
    /// log as <c>bpftool prog load</c> prints it on failure).
    /// </summary>
    private static void Verify(Instruction[] program, int memSize)
    {
        var verdict = BpfVerifier.Verify(program, new VerifierOptions { MemSize = memSize });
        if (verdict.Accepted)
            return;
        var log = BpfVerifier.Verify(program, new VerifierOptions { MemSize = memSize, LogLevel = 1 }).Log;
        throw new BpfRejectedException($"the verifier rejected the program (--no-verify runs it unverified): {verdict.Error}", log);
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

/// <summary>The engine refused the program (the verifier or the JIT's safety gate); the message says why.</summary>
internal sealed class BpfRejectedException(string message, string log) : Exception(message)
{
    /// <summary>The verifier's log when the verifier refused the program, else empty.</summary>
    public string Log { get; } = log;
}
