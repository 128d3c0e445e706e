using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Verifier;
using BpfVerifier = Kernel.Sim.Bpf.Verifier.Verifier;

namespace Kernel.Sim.Bpf.Jit;

/// <summary>Counts of one differential fuzzing campaign.</summary>
public sealed record JitFuzzReport(int Programs, int Accepted, int Rejected, int Agreed, int Unsafe, int Diverged, IReadOnlyList<string> Divergences, IReadOnlyDictionary<string, int> RejectionReasons);

/// <summary>
/// Differential fuzzing of the JIT: <see cref="RandomProgramGenerator"/> programs through the verifier, then
/// through both engines (<see cref="JitDifferential"/>). Verifier-accepted programs must agree; rejected ones are
/// compared too when the checked interpreter finds their run safe, so the JIT is tested beyond what the verifier
/// admits. A verifier-accepted program the checked interpreter finds unsafe counts as a divergence too (the
/// JIT would run it unchecked). A divergence is reported with the program's index and its bytes for reproduction.
/// </summary>
public static class JitFuzzer
{
    /// <summary>Runs <paramref name="count"/> programs from <paramref name="seed"/>.</summary>
    public static JitFuzzReport Run(int count, int seed, int maxReported = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var generator = new RandomProgramGenerator(seed);
        var helpers = HelperRegistry.CreateConformance();
        var options = new VerifierOptions { MemSize = RandomProgramGenerator.MemorySize };
        int accepted = 0, rejected = 0, agreed = 0, unsafeRuns = 0, diverged = 0;
        var divergences = new List<string>();
        var reasons = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var n = 0; n < count; n++)
        {
            var (program, memory) = generator.Next();
            var verdict = BpfVerifier.Verify(program, options);
            if (verdict.Accepted)
                accepted++;
            else
            {
                rejected++;
                // Reasons without their numbers, so the same rule counts once.
                var reason = new string((verdict.Error ?? "").Where(c => !char.IsDigit(c)).ToArray());
                reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
            }

            var outcome = JitDifferential.Compare(program, memory, helpers);
            switch (outcome.Verdict)
            {
                case DifferentialVerdict.Agree:
                    agreed++;
                    break;
                case DifferentialVerdict.Unsafe:
                    unsafeRuns++;
                    if (verdict.Accepted)
                    {
                        // The verifier's soundness fails here, which makes the JIT unsafe: count it as a divergence.
                        diverged++;
                        divergences.Add($"program {n} (seed {seed}): the verifier accepted it but the checked interpreter found it unsafe: {outcome.Detail}; program {Hex(program)}");
                    }

                    break;
                default:
                    diverged++;
                    if (divergences.Count < maxReported)
                        divergences.Add($"program {n} (seed {seed}, {(verdict.Accepted ? "verified" : "rejected: " + verdict.Error)}): {outcome.Detail}; program {Hex(program)}; memory {Convert.ToHexString(memory)}");
                    break;
            }
        }

        return new JitFuzzReport(count, accepted, rejected, agreed, unsafeRuns, diverged, divergences, reasons);
    }

    private static string Hex(Instruction[] program) => Convert.ToHexString(Instruction.WriteAll(program));
}
