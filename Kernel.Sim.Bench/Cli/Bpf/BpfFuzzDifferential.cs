using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Jit;
using Kernel.Sim.Bpf.Verifier;
using Kernel.Sim.Bpf.Verifier.Fuzzing;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// <c>bpf fuzz --differential</c>: each program the verifier accepted, with its dead code sanitised as Linux does,
/// runs on the interpreter and the JIT with the same random input; r0 (or the error and its instruction), and the
/// final memory must be equal. A JIT refusal of a verified program counts as a divergence.
/// </summary>
internal sealed class BpfFuzzDifferential(int seed)
{
    private readonly Random _random = new(seed ^ 0x5eed);
    private readonly HelperRegistry _helpers = HelperRegistry.CreateConformance();

    public int Compared { get; private set; }

    public int Divergences { get; private set; }

    /// <summary>Null when the engines agree (or the program was rejected); else what differed.</summary>
    public string? Check(FuzzCase fc)
    {
        if (!fc.Accepted)
            return null;
        var verdict = Verifier.Verify(fc.Program, new VerifierOptions { MemSize = fc.MemSize, ComplexityLimit = 200_000 });
        var runnable = verdict.SanitizeDeadCode(fc.Program);
        var memory = new byte[fc.MemSize];
        _random.NextBytes(memory);
        Compared++;
        string? why;
        try
        {
            var outcome = JitDifferential.Compare(runnable, memory, _helpers);
            // Unsafe runs of accepted programs are the verifier fuzzer's own violations, reported by it.
            why = outcome.Verdict == DifferentialVerdict.Diverge ? "jit differs from the interpreter: " + outcome.Detail : null;
        }
        catch (BpfJitException e)
        {
            why = "the JIT refused a verified program: " + e.Message;
        }

        if (why is not null)
            Divergences++;
        return why;
    }
}
