using System.Globalization;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf.Isa;

/// <summary>Every malformed input of malformed.txt is rejected with its specific error.</summary>
public sealed class MalformedInputTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        var lines = File.ReadAllLines(TestPaths.Data("Bpf", "Isa", "malformed.txt"));
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var arrow = line.LastIndexOf("=>", StringComparison.Ordinal);
            var kind = line[..line.IndexOf(' ', StringComparison.Ordinal)];
            var input = line[kind.Length..arrow].Trim();
            var expected = line[(arrow + 2)..].Trim();
            yield return new TestCaseData(kind, input, expected).SetName($"malformed line {i + 1}: {kind} {input}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Input_is_rejected_with_its_reason(string kind, string input, string expected)
    {
        Exception? error = null;
        try
        {
            switch (kind)
            {
                case "raw":
                    var words = input.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                        .Select(w => Instruction.FromUInt64(ulong.Parse(w.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)))
                        .ToArray();
                    ProgramValidator.Validate(words);
                    break;
                case "bytes":
                    Instruction.ReadAll(Convert.FromHexString(input.Replace(" ", "", StringComparison.Ordinal)));
                    break;
                case "asm":
                    ConformanceAssembler.Assemble(input.Replace("\\n", "\n", StringComparison.Ordinal));
                    break;
                default:
                    Assert.Fail($"unknown kind '{kind}'");
                    break;
            }
        }
        catch (Exception e) when (e is BpfDecodeException or AsmException or ArgumentException)
        {
            error = e;
        }

        Assert.That(error, Is.Not.Null, "accepted");
        Assert.That(error!.Message, Does.Contain(expected));
    }

    [Test]
    public void Decode_exception_carries_index_and_reason()
    {
        var e = Assert.Throws<BpfDecodeException>(() => ProgramValidator.Validate([Instruction.Exit(), new Instruction(0xff, 0, 0, 0, 0)]));
        Assert.That((e!.Index, e.Reason, e.Message), Is.EqualTo((1, "unknown opcode 0xff", "insn 1: unknown opcode 0xff")));
    }

    [Test]
    public void A_label_beyond_s16_is_a_jump_out_of_range()
    {
        var text = "ja far\n" + string.Concat(Enumerable.Repeat("mov %r0, 0\n", 40000)) + "far:\nexit\n";
        var e = Assert.Throws<AsmException>(() => ConformanceAssembler.Assemble(text, "far.s"));
        Assert.That(e!.Message, Does.StartWith("far.s:1:4: error: jump out of range: 'far' is 40000 slots away"));
    }
}
