using System.Globalization;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bpf.Jit;

/// <summary>How one program fared on both engines.</summary>
public enum DifferentialVerdict
{
    /// <summary>Same r0 (or the same error at the same instruction) and the same final memory.</summary>
    Agree,

    /// <summary>Not run on the JIT: the checked interpreter found the run unsafe (out of bounds, misaligned atomic, over budget).</summary>
    Unsafe,

    /// <summary>The engines disagree; <see cref="DifferentialOutcome.Detail"/> says how.</summary>
    Diverge,
}

/// <summary>The verdict and, for a divergence, what differed.</summary>
public readonly record struct DifferentialOutcome(DifferentialVerdict Verdict, BpfRunResult Interpreter, string? Detail);

/// <summary>
/// Runs a program on the checked interpreter and on the JIT with copies of the same input memory and compares
/// r0, the error (kind and instruction) and the final memory byte for byte. The JIT runs only when the
/// interpreter's run was memory-safe: the JIT does not check accesses, and a deterministic program given the same
/// input takes the same path on both engines, so a safe interpreter run makes the JIT run safe.
/// </summary>
public static class JitDifferential
{
    /// <summary>Compares both engines on <paramref name="program"/> and <paramref name="memory"/> (left unchanged).</summary>
    public static DifferentialOutcome Compare(ReadOnlySpan<Instruction> program, ReadOnlySpan<byte> memory, HelperRegistry helpers)
    {
        var interpreterMemory = memory.ToArray();
        var expected = new BpfInterpreter(program, helpers).Run(interpreterMemory);
        if (expected.Error is BpfRunError.OutOfBounds or BpfRunError.MisalignedAtomic or BpfRunError.BudgetExceeded)
            return new DifferentialOutcome(DifferentialVerdict.Unsafe, expected, expected.Message);

        var jitMemory = memory.ToArray();
        var actual = BpfJit.Compile(program, helpers).Run(jitMemory);
        string? detail = null;
        if (actual.Error != expected.Error || (expected.Succeeded ? actual.R0 != expected.R0 : actual.InstructionIndex != expected.InstructionIndex))
            detail = $"interpreter: {Describe(expected)}; jit: {Describe(actual)}";
        else if (!interpreterMemory.AsSpan().SequenceEqual(jitMemory))
        {
            var at = interpreterMemory.AsSpan().CommonPrefixLength(jitMemory);
            detail = string.Create(CultureInfo.InvariantCulture,
                $"memory differs at offset {at}: interpreter 0x{interpreterMemory[at]:x2}, jit 0x{jitMemory[at]:x2}");
        }

        return new DifferentialOutcome(detail is null ? DifferentialVerdict.Agree : DifferentialVerdict.Diverge, expected, detail);
    }

    private static string Describe(BpfRunResult result) =>
        result.Succeeded ? string.Create(CultureInfo.InvariantCulture, $"r0 = 0x{result.R0:x}") : result.Message;
}
