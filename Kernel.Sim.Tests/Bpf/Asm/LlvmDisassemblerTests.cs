using CsCheck;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tests.Bpf.Asm;

public sealed class LlvmDisassemblerTests
{
    [TestCaseSource(typeof(InstructionVectors), nameof(InstructionVectors.Forms))]
    public void EveryFormRoundTripsThroughTheAssembler(ulong[] words)
    {
        var program = InstructionVectors.ToProgram(words);
        var text = LlvmDisassembler.Disassemble(program);
        Assert.That(LlvmAssembler.Assemble(text), Is.EqualTo(program), text);
    }

    [TestCaseSource(typeof(InstructionVectors), nameof(InstructionVectors.Forms))]
    public void AddressedOutputAlsoRoundTrips(ulong[] words)
    {
        var program = InstructionVectors.ToProgram(words);
        var text = LlvmDisassembler.Disassemble(program, addresses: true);
        Assert.That(LlvmAssembler.Assemble(text), Is.EqualTo(program), text);
    }

    [Test]
    public void RandomProgramsRoundTrip()
    {
        // Registers mostly in range and fields often zero, so valid instructions are common; every other slot must
        // survive as .quad. Programs of several slots exercise lddw pairing and relative targets.
        var field = Gen.Frequency((3, Gen.Const(0)), (1, Gen.Int[-40, 40]), (1, Gen.Int));
        var slot = Gen.Select(Gen.Byte, Gen.Int[0, 11], Gen.Int[0, 11], field, field)
            .Select((op, dst, src, off, imm) => new Instruction(op, (byte)dst, (byte)src, (short)off, imm));
        slot.Array[1, 6].Sample(program =>
        {
            var text = LlvmDisassembler.Disassemble(program);
            Assert.That(LlvmAssembler.Assemble(text), Is.EqualTo(program), text);
        }, iter: 20000);
    }

    [Test]
    public void PrintsTheShapesLlvmObjdumpPrints()
    {
        Instruction[] program =
        [
            Instruction.LoadMem(BPF_W, 0, 1, 4),
            Instruction.StoreMem(BPF_DW, 10, 1, -8),
            Instruction.JumpImm(BPF_JGT, 1, 5, 2),
            new(BPF_JMP32 | BPF_JSLT | BPF_X, 1, 2, 0, 0),
            Instruction.Alu32Imm(BPF_ADD, 0, 1),
            new(BPF_STX | BPF_ATOMIC | BPF_DW, 10, 1, -8, BPF_ADD),
            Instruction.Call(1),
            Instruction.Exit(),
        ];
        var (lo, hi) = Instruction.LdImm64Pair(1, 0x123456789abcdef0);
        Assert.That(LlvmDisassembler.Disassemble([.. program, lo, hi]), Is.EqualTo(
            """
            r0 = *(u32 *)(r1 + 4)
            *(u64 *)(r10 - 8) = r1
            if r1 > 5 goto +2
            if w1 s< w2 goto +0
            w0 += 1
            lock *(u64 *)(r10 - 8) += r1
            call 1
            exit
            r1 = 0x123456789abcdef0 ll

            """));
    }

    [Test]
    public void AddressesCountSlotsSoAnLddwTakesTwo()
    {
        var (lo, hi) = Instruction.LdImm64Pair(1, 7);
        var text = LlvmDisassembler.Disassemble([lo, hi, Instruction.Exit()], addresses: true);
        Assert.That(text, Is.EqualTo("       0:\tr1 = 7 ll\n       2:\texit\n"));
    }

    [Test]
    public void FormatInstructionReadsTheSecondLddwSlot()
    {
        var (lo, hi) = Instruction.LdImm64Pair(3, 0xffffffff00000001);
        Assert.That(LlvmDisassembler.FormatInstruction([lo, hi], 0), Is.EqualTo("r3 = 0xffffffff00000001 ll"));
        Assert.That(LlvmDisassembler.FormatInstruction([lo], 0), Does.StartWith(".quad 0x"));
    }

    [Test]
    public void InvalidEncodingsPrintAsRawQuads()
    {
        var bad = new Instruction(0x8f, 1, 0, 0, 0);
        Assert.That(LlvmDisassembler.FormatInstruction([bad], 0), Is.EqualTo(".quad 0x000000000000018f"));
    }
}
