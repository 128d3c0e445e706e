using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tests.Support;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tests.Bpf.Asm;

public sealed class LlvmAssemblerTests
{
    public static IEnumerable<TestCaseData> Malformed()
    {
        var lines = File.ReadAllLines(TestPaths.Data("Bpf", "Asm", "Vectors", "llvm-malformed.txt"));
        foreach (var line in lines.Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var parts = line.Split(" @@ ");
            var location = parts[1].Split(':');
            yield return new TestCaseData(parts[0].Replace("\\n", "\n", StringComparison.Ordinal), int.Parse(location[0]), int.Parse(location[1]), parts[2])
                .SetArgDisplayNames(parts[0]);
        }
    }

    [TestCaseSource(nameof(Malformed))]
    public void MalformedTextIsRejectedWithItsPlace(string text, int line, int column, string reason)
    {
        var error = Assert.Throws<AsmException>(() => LlvmAssembler.Assemble(text, "bad.s"))!;
        Assert.Multiple(() =>
        {
            Assert.That(error.Reason, Does.Contain(reason));
            Assert.That((error.Line, error.Column), Is.EqualTo((line, column)), error.Message);
            Assert.That(error.Message, Does.StartWith($"bad.s:{line}:{column}: error: "));
        });
    }

    [Test]
    public void AssemblesTheFormsOfTheIssue()
    {
        var program = LlvmAssembler.Assemble(
            """
            r0 = *(u32 *)(r1 + 4)
            *(u64 *)(r10 - 8) = r1
            *(u32 *)(r1 + 0) = 5
            if r1 > 5 goto +2
            if w1 s< w2 goto LBB0_2
            w0 += 1
            LBB0_2:
            r0 = -r0
            r0 = (s8)r1
            r0 = *(s16 *)(r1 + 2)
            r0 s/= r1
            r0 s%= 3
            lock *(u64 *)(r10 - 8) += r1
            r0 = atomic_fetch_add((u64 *)(r10 - 8), r0)
            r0 = xchg_64(r10 - 8, r0)
            r0 = cmpxchg_64(r10 - 8, r0, r1)
            w0 = be16 w0
            """.Replace("w0 = be16 w0", "r0 = be16 r0", StringComparison.Ordinal));
        Assert.That(program, Is.EqualTo(new Instruction[]
        {
            Instruction.LoadMem(BPF_W, 0, 1, 4),
            Instruction.StoreMem(BPF_DW, 10, 1, -8),
            Instruction.StoreImm(BPF_W, 1, 0, 5),
            Instruction.JumpImm(BPF_JGT, 1, 5, 2),
            new(BPF_JMP32 | BPF_JSLT | BPF_X, 1, 2, 1, 0),
            Instruction.Alu32Imm(BPF_ADD, 0, 1),
            new(BPF_ALU64 | BPF_NEG, 0, 0, 0, 0),
            new(BPF_ALU64 | BPF_MOV | BPF_X, 0, 1, 8, 0),
            new(BPF_LDX | BPF_MEMSX | BPF_H, 0, 1, 2, 0),
            new(BPF_ALU64 | BPF_DIV | BPF_X, 0, 1, 1, 0),
            new(BPF_ALU64 | BPF_MOD | BPF_K, 0, 0, 1, 3),
            new(BPF_STX | BPF_ATOMIC | BPF_DW, 10, 1, -8, BPF_ADD),
            new(BPF_STX | BPF_ATOMIC | BPF_DW, 10, 0, -8, BPF_ADD | BPF_FETCH),
            new(BPF_STX | BPF_ATOMIC | BPF_DW, 10, 0, -8, BPF_XCHG),
            new(BPF_STX | BPF_ATOMIC | BPF_DW, 10, 1, -8, BPF_CMPXCHG),
            new(BPF_ALU | BPF_END | BPF_TO_BE, 0, 0, 0, 16),
        }));
    }

    [Test]
    public void CallsJumpsAndLddw()
    {
        var program = LlvmAssembler.Assemble(
            """
            r1 = 0x123456789abcdef0 ll   # 64-bit immediate
            call 1                       ; helper
            call sub                     // local call through a label
            call pc-3
            call kfunc 77
            callx r2
            gotol +1
            goto -1
            exit
            sub:
              r0 = *(u8 *)skb[12]
              r0 = *(u16 *)skb[r3]
              r0 = *(u32 *)skb[r3 - 4]
              exit
            """);
        var (lo, hi) = Instruction.LdImm64Pair(1, 0x123456789abcdef0);
        Assert.That(program, Is.EqualTo(new Instruction[]
        {
            lo, hi,
            Instruction.Call(1),
            new(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 6),
            new(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, -3),
            new(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, 77),
            new(BPF_JMP | BPF_CALL | BPF_X, 2, 0, 0, 0),
            new(BPF_JMP32 | BPF_JA, 0, 0, 0, 1),
            Instruction.Ja(-1),
            Instruction.Exit(),
            new(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 12),
            new(BPF_LD | BPF_IND | BPF_H, 0, 3, 0, 0),
            new(BPF_LD | BPF_IND | BPF_W, 0, 3, 0, -4),
            Instruction.Exit(),
        }));
    }

    [Test]
    public void ReadsKernelVerifierLogShapes()
    {
        // The operand shapes of the kernel's log (no space after the sign, pc-relative targets) are accepted too.
        var program = LlvmAssembler.Assemble("r0 = *(u32 *)(r1 +0)\n*(u64 *)(r10 -8) = r1\nif r0 == 0x0 goto pc+2\ngoto pc-1\n");
        Assert.That(program, Is.EqualTo(new Instruction[]
        {
            Instruction.LoadMem(BPF_W, 0, 1, 0),
            Instruction.StoreMem(BPF_DW, 10, 1, -8),
            Instruction.JumpImm(BPF_JEQ, 0, 0, 2),
            Instruction.Ja(-1),
        }));
    }

    [Test]
    public void ImmediatesMayBeWrittenAsTheirBitPattern()
    {
        var program = LlvmAssembler.Assemble("w1 = 0xffffffff\nr1 = -2147483648\nr1 = -1 ll\n");
        Assert.That(program[0].Imm, Is.EqualTo(-1));
        Assert.That(program[1].Imm, Is.EqualTo(int.MinValue));
        Assert.That(program[2].Imm, Is.EqualTo(-1));
        Assert.That(program[3].Imm, Is.EqualTo(-1));
    }

    [Test]
    public void LabelJumpBeyondSixteenBitsIsOutOfRange()
    {
        var text = "goto far\n" + string.Concat(Enumerable.Repeat("r0 = 0\n", 40000)) + "far:\nexit\n";
        var error = Assert.Throws<AsmException>(() => LlvmAssembler.Assemble(text, "far.s"))!;
        Assert.That((error.Line, error.Column, error.Reason), Is.EqualTo((1, 6, "jump to 'far' out of range (40000 slots does not fit in 16 bits)")));
    }

    [Test]
    public void SkipsClangLayoutDirectivesAndAddressColumns()
    {
        var program = LlvmAssembler.Assemble("\t.text\n\t.section \"xdp\",\"ax\",@progbits\n\t.globl prog\nprog:\n       0:\tr0 = 1\n       1:\texit\n");
        Assert.That(program, Is.EqualTo(new[] { Instruction.Mov64Imm(0, 1), Instruction.Exit() }));
    }
}
