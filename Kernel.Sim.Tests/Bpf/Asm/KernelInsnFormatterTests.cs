using System.Globalization;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf.Asm;

public sealed class KernelInsnFormatterTests
{
    private static readonly Dictionary<int, string> Helpers = new()
    {
        [0] = "bpf_unspec",
        [1] = "bpf_map_lookup_elem",
        [5] = "bpf_ktime_get_ns",
    };

    public static IEnumerable<TestCaseData> Vectors() =>
        File.ReadAllLines(TestPaths.Data("Bpf", "Asm", "Vectors", "kernel-insn.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(" @@ "))
            .Select(p => new TestCaseData(
                    p[0].Split(' ').Select(w => ulong.Parse(w.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray(), p[1])
                .SetArgDisplayNames(p[1]));

    [TestCaseSource(nameof(Vectors))]
    public void PrintsWhatDisasmCPrints(ulong[] words, string expected)
    {
        var program = InstructionVectors.ToProgram(words);
        var text = KernelInsnFormatter.FormatInstruction(program, 0, id => Helpers.GetValueOrDefault(id));
        Assert.That(text, Is.EqualTo(expected));
    }

    [Test]
    public void WithoutAHelperTableEveryHelperIsUnknown()
    {
        Assert.That(KernelInsnFormatter.FormatInstruction([Instruction.Call(1)], 0), Is.EqualTo("(85) call unknown#1"));
    }

    [Test]
    public void CallbacksNameKfuncsAndMapImmediates()
    {
        var formatter = new KernelInsnFormatter
        {
            CallName = insn => insn.Src == Opcodes.BPF_PSEUDO_KFUNC_CALL ? "bpf_obj_new_impl" : null,
            ImmName = (insn, imm) => insn.Src == Opcodes.BPF_PSEUDO_MAP_FD ? $"map[id:{imm}]" : null,
        };
        var (lo, hi) = Instruction.LdImm64Pair(1, 4, Opcodes.BPF_PSEUDO_MAP_FD);
        Assert.Multiple(() =>
        {
            Assert.That(formatter.Format([new Instruction(0x85, 0, 2, 0, 12345)], 0), Is.EqualTo("(85) call bpf_obj_new_impl#12345"));
            Assert.That(formatter.Format([lo, hi], 0), Is.EqualTo("(18) r1 = map[id:4]"));
            Assert.That(formatter.Format([new Instruction(0x85, 0, 1, 0, 2)], 0), Is.EqualTo("(85) call pc+2"));
        });
    }

    [Test]
    public void UnprivilegedLogsHideMapPointers()
    {
        var (lo, hi) = Instruction.LdImm64Pair(1, 0xffff888003fa2000, Opcodes.BPF_PSEUDO_MAP_VALUE);
        var (plainLo, plainHi) = Instruction.LdImm64Pair(1, 0xffff888003fa2000);
        var hidden = new KernelInsnFormatter { AllowPointerLeaks = false };
        Assert.Multiple(() =>
        {
            Assert.That(KernelInsnFormatter.Default.Format([lo, hi], 0), Is.EqualTo("(18) r1 = 0xffff888003fa2000"));
            Assert.That(hidden.Format([lo, hi], 0), Is.EqualTo("(18) r1 = 0x0"));
            Assert.That(hidden.Format([plainLo, plainHi], 0), Is.EqualTo("(18) r1 = 0xffff888003fa2000"));
        });
    }
}
