using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Jit;

namespace Kernel.Sim.Tests.Bpf.Jit;

/// <summary>The differential fuzzing smoke run (the full 20,000-program run is recorded in docs/jit.md).</summary>
public sealed class JitFuzzerTests
{
    [Test]
    public void Two_thousand_random_programs_agree_on_both_engines()
    {
        var report = JitFuzzer.Run(2000, seed: 2026);
        Assert.That(report.Divergences, Is.Empty);
        Assert.That(report.Diverged, Is.Zero);
        // The generator stays useful only while the verifier accepts what it writes.
        Assert.That(report.Accepted, Is.GreaterThan(1900), string.Join("; ", report.RejectionReasons.Select(r => $"{r.Value}x {r.Key}")));
        Assert.That(report.Agreed, Is.EqualTo(2000));
    }

    [Test]
    public void The_generator_is_deterministic_for_a_seed_and_covers_the_instruction_classes()
    {
        var a = new RandomProgramGenerator(5);
        var b = new RandomProgramGenerator(5);
        var opcodes = new HashSet<byte>();
        for (var i = 0; i < 200; i++)
        {
            var (pa, ma) = a.Next();
            var (pb, mb) = b.Next();
            Assert.That(pa, Is.EqualTo(pb));
            Assert.That(ma, Is.EqualTo(mb));
            foreach (var insn in pa)
                opcodes.Add(insn.Opcode);
        }

        // Every class, sign-extending loads, atomics, JMP32, gotol, local calls.
        Assert.That(opcodes.Select(Opcodes.Class).Distinct().Count(), Is.EqualTo(8));
        Assert.That(opcodes, Does.Contain((byte)(Opcodes.BPF_LDX | Opcodes.BPF_MEMSX | Opcodes.BPF_B)));
        Assert.That(opcodes, Does.Contain((byte)(Opcodes.BPF_STX | Opcodes.BPF_ATOMIC | Opcodes.BPF_DW)));
        Assert.That(opcodes, Does.Contain((byte)(Opcodes.BPF_JMP32 | Opcodes.BPF_JA)));
        Assert.That(opcodes, Does.Contain((byte)(Opcodes.BPF_JMP | Opcodes.BPF_CALL)));
    }
}
