using Kernel.Sim.Bpf.Verifier.Fuzzing;

namespace Kernel.Sim.Tests.Bpf.Verifier.Fuzzing;

public sealed class VerifierFuzzerTests
{
    [Test]
    public void Smoke_run_has_no_soundness_violation()
    {
        var summary = new VerifierFuzzer(seed: 2024).Run(2000);
        Assert.That(summary.Generated, Is.EqualTo(2000));
        // The generator must exercise both verdicts, or the run proves nothing.
        Assert.That(summary.Accepted, Is.GreaterThan(100));
        Assert.That(summary.Rejected, Is.GreaterThan(100));
        Assert.That(summary.Violations, Is.Zero,
            string.Join("\n", summary.ViolationCases.Select(v => $"{v.RunMessage}: {Kernel.Sim.Bpf.Asm.LlvmDisassembler.Disassemble(v.Program)}")));
    }

    [Test]
    public void Same_seed_same_programs()
    {
        var a = new VerifierFuzzer(5).Generate(16);
        var b = new VerifierFuzzer(5).Generate(16);
        Assert.That(a, Is.EqualTo(b));
    }
}
