using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Tests.Bpf.Interpreter;

/// <summary>Random valid programs never take the host down: every run ends in r0 or a precise error.</summary>
public sealed class RandomProgramTests
{
    [Test]
    public void Random_valid_programs_end_in_a_result_or_a_precise_error()
    {
        var random = new Random(20261125);
        var helpers = HelperRegistry.CreateConformance();
        var options = new BpfInterpreterOptions { InstructionBudget = 2000 };
        var memory = new byte[64];
        var outcomes = new Dictionary<BpfRunError, int>();
        var programs = 0;
        while (programs < 3000)
        {
            var program = RandomProgram(random);
            if (!ProgramValidator.TryValidate(program, out _, out _))
                continue;
            programs++;
            var result = new BpfInterpreter(program, helpers, options: options).Run(memory);
            outcomes[result.Error] = outcomes.GetValueOrDefault(result.Error) + 1;
            Assert.That(result.InstructionsExecuted, Is.InRange(1, 2000));
            if (!result.Succeeded)
            {
                Assert.That(result.Message, Does.StartWith($"insn {result.InstructionIndex}: "));
                Assert.That(result.InstructionIndex, Is.InRange(0, program.Length - 1));
            }
        }

        // The generator must reach the interesting ends, or the test proves little.
        Assert.That(outcomes.Keys, Is.SupersetOf(new[] { BpfRunError.None, BpfRunError.OutOfBounds, BpfRunError.JumpOutOfRange, BpfRunError.PastEnd }),
            string.Join(", ", outcomes.Select(kv => $"{kv.Key}={kv.Value}")));
    }

    private static Instruction[] RandomProgram(Random random)
    {
        // Registers 0..10, small offsets and immediates biased towards the stack and the input, so loads and
        // stores sometimes hit and sometimes miss; the opcode is any byte the validator accepts with those fields.
        var length = random.Next(1, 16);
        var program = new List<Instruction>();
        for (var i = 0; i < length; i++)
        {
            var opcode = (byte)random.Next(256);
            if (opcode == Opcodes.LdImm64)
            {
                program.Add(new Instruction(opcode, (byte)random.Next(11), 0, 0, random.Next()));
                program.Add(new Instruction(0, 0, 0, 0, random.Next(2) == 0 ? 0 : random.Next()));
                continue;
            }

            var off = (short)(random.Next(3) switch { 0 => random.Next(-16, 16), 1 => random.Next(-520, 8), _ => random.Next(4) });
            var imm = random.Next(4) switch
            {
                0 => random.Next(-4, 70),
                1 => random.Next(),
                2 => (int)Opcodes.SizeInBytes((byte)(random.Next(4) << 3)) * 8,
                _ => random.Next(2) == 0 ? 5 : Opcodes.BPF_FETCH,
            };
            var insn = new Instruction(opcode, (byte)random.Next(11), (byte)random.Next(11), off, imm);
            // Keep only valid slots (else nearly every longer program would be refused at load).
            if (ProgramValidator.Check([insn], 0) is null)
                program.Add(insn);
            else
                i--;
        }

        return [.. program];
    }
}
