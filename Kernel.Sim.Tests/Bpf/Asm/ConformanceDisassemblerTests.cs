using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf.Asm;

public sealed class ConformanceDisassemblerTests
{
    [TestCaseSource(typeof(ConformanceCases), nameof(ConformanceCases.All))]
    public void Conformance_program_round_trips(string path)
    {
        var program = ConformanceDataFile.Load(path).Program;
        var text = ConformanceDisassembler.Disassemble(program);
        Assert.That(ConformanceAssembler.Assemble(text, path + ".disasm"), Is.EqualTo(program), text);
    }

    [Test]
    public void Every_form_prints_exactly_as_listed_and_round_trips()
    {
        var path = TestPaths.Data("Bpf", "Asm", "all-forms.s");
        var listed = File.ReadAllLines(path).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        var program = ConformanceAssembler.Assemble(File.ReadAllText(path), path);
        Assert.That(ProgramValidator.TryValidate(program, out var index, out var reason), Is.True, $"insn {index}: {reason}");
        var printed = ConformanceDisassembler.Disassemble(program).TrimEnd('\n').Split('\n');
        Assert.That(printed, Is.EqualTo(listed));
        Assert.That(ConformanceAssembler.Assemble(string.Join('\n', printed)), Is.EqualTo(program));
    }

    [Test]
    public void Every_valid_encoding_in_a_field_sweep_round_trips()
    {
        // Every opcode byte against boundary values of each field: whatever the validator accepts must come
        // back bit for bit; whatever it rejects the disassembler must refuse too.
        byte[] regs = [0, 1, 10, 11];
        short[] offsets = [0, 1, 8, 32, -1, short.MinValue];
        int[] imms = [0, 1, 16, 64, -1, 0x51, 0xe1, 0xf1, int.MinValue];
        var valid = 0;
        var opcodes = new HashSet<byte>();
        var refused = new HashSet<byte>();
        for (var op = 0; op < 256; op++)
        {
            foreach (var dst in regs)
            {
                foreach (var src in (byte[])[0, 1, 2, 7, 11])
                {
                    foreach (var off in offsets)
                    {
                        foreach (var imm in imms)
                        {
                            Instruction[] program = op == Opcodes.LdImm64
                                ? [new Instruction((byte)op, dst, src, off, imm), new Instruction(0, 0, 0, 0, ~imm)]
                                : [new Instruction((byte)op, dst, src, off, imm)];
                            if (ProgramValidator.Check(program, 0) is not null)
                            {
                                // One refusal per opcode is enough (exceptions are slow; malformed.txt covers reasons).
                                if (refused.Add((byte)op))
                                    Assert.That(() => ConformanceDisassembler.Disassemble(program), Throws.TypeOf<BpfDecodeException>());
                                continue;
                            }

                            valid++;
                            opcodes.Add((byte)op);
                            var text = ConformanceDisassembler.Disassemble(program);
                            var back = ConformanceAssembler.Assemble(text);
                            if (!back.AsSpan().SequenceEqual(program))
                                Assert.Fail($"{program[0]} -> '{text.Trim()}' -> {back[0]}");
                        }
                    }
                }
            }
        }

        // 126 opcodes: ALU 27 (12 ops x K/X, neg, le, be), ALU64 26 (12 x 2, neg, bswap), JMP 26 (ja, 11 x 2,
        // call, callx, exit), JMP32 23 (gotol, 11 x 2), LDX 7, ST 4, STX 6 (4 sizes, 2 atomic), LD 7 (lddw, abs/ind x 3).
        Assert.That(opcodes, Has.Count.EqualTo(126), string.Join(" ", opcodes.Order().Select(o => o.ToString("x2"))));
        Assert.That(valid, Is.GreaterThan(5000));
    }
}
