using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tests.Bpf.Verifier;

/// <summary>Behaviours the corpora do not show: log levels, statistics, access records, dead code.</summary>
public sealed class VerifierTests
{
    private static VerifierResult Verify(Instruction[] program, int level = 2, int mem = 8) =>
        Kernel.Sim.Bpf.Verifier.Verifier.Verify(program, new VerifierOptions { MemSize = mem, LogLevel = level });

    private static readonly Instruction[] Branchy =
    [
        Instruction.LoadMem(BPF_B, 2, 1, 0),
        Instruction.JumpImm(BPF_JGT, 2, 3, 2),
        Instruction.Mov64Imm(0, 1),
        Instruction.Exit(),
        Instruction.Mov64Imm(0, 2),
        Instruction.Exit(),
    ];

    [Test]
    public void Level_1_success_prints_only_the_trailer()
    {
        var r = Verify(Branchy, level: 1);
        Assert.That(r.Accepted, Is.True);
        Assert.That(r.Log, Is.EqualTo(r.Trailer + "\n"));
    }

    [Test]
    public void Level_2_prints_every_path_with_from_lines()
    {
        var r = Verify(Branchy);
        var lines = r.Log.Split('\n');
        Assert.That(lines[0], Is.EqualTo("0: R1=mem(sz=8) R2=8 R10=fp0"));
        var from = lines.Where(l => l.StartsWith("from 1 to 4:", StringComparison.Ordinal)).ToArray();
        Assert.That(from, Has.Length.EqualTo(1));
        // The jump side learnt r2 > 3 from the branch.
        Assert.That(from[0], Is.EqualTo("from 1 to 4: R1=mem(sz=8) R2=scalar(smin=umin=smin32=umin32=4,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R10=fp0"));
        Assert.That(r.ProcessedInsns, Is.EqualTo(6));
    }

    [Test]
    public void Level_1_rejection_shows_only_the_failing_path()
    {
        Instruction[] program =
        [
            Instruction.LoadMem(BPF_B, 2, 1, 0),
            Instruction.JumpImm(BPF_JGT, 2, 3, 2),
            Instruction.Mov64Imm(0, 1),
            Instruction.Exit(),
            Instruction.LoadMem(BPF_B, 0, 1, 8), // out of the 8-byte block, only on the jump side
            Instruction.Exit(),
        ];
        var r = Verify(program, level: 1);
        Assert.That(r.Accepted, Is.False);
        Assert.That(r.Log, Does.Not.Contain("2: (b7) r0 = 1"), "the explored fall-through path is rewound away");
        Assert.That(r.Log, Does.Contain("4: (71) r0 = *(u8 *)(r1 +8)"));
        Assert.That(r.Error, Does.StartWith("invalid access to memory, mem_size=8 off=8 size=1"));
    }

    [Test]
    public void Range_printing_merges_equal_bounds_as_print_scalar_ranges()
    {
        var reg = RegState.UnknownScalar;
        reg.VarOff = new Tnum(0, 0xff);
        ScalarBounds.Sync(ref reg);
        Assert.That(StatePrinter.RegText(reg, 0, []), Is.EqualTo("scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"));
        Assert.That(StatePrinter.RegText(RegState.Known(0xffffffff), 0, []), Is.EqualTo("0xffffffff"));
        Assert.That(StatePrinter.RegText(RegState.Known(unchecked((ulong)-8)), 0, []), Is.EqualTo("-8"));
    }

    [Test]
    public void Accesses_are_recorded_per_instruction()
    {
        var maps = new[] { new MapDefinition(BpfMapType.Hash, 4, 8, 1) };
        var (lo, hi) = Instruction.LdImm64Pair(1, 0, BPF_PSEUDO_MAP_IDX);
        Instruction[] program =
        [
            Instruction.StoreImm(BPF_W, 10, -4, 0),
            Instruction.Mov64Reg(2, 10),
            Instruction.Alu64Imm(BPF_ADD, 2, -4),
            lo, hi,
            Instruction.Call(1),
            Instruction.JumpImm(BPF_JEQ, 0, 0, 1),
            Instruction.LoadMem(BPF_DW, 1, 0, 0),
            Instruction.Mov64Imm(0, 0),
            Instruction.Exit(),
        ];
        var r = Kernel.Sim.Bpf.Verifier.Verifier.Verify(program, new VerifierOptions { ProgramType = new SocketFilterProgramType(), Maps = maps });
        Assert.That(r.Accepted, Is.True, r.Log);
        Assert.That(r.Accesses[0], Is.EqualTo(AccessKind.Stack));
        Assert.That(r.Accesses[7], Is.EqualTo(AccessKind.MapValue));
    }

    [Test]
    public void Dead_code_is_sanitised_to_self_jumps()
    {
        Instruction[] program =
        [
            Instruction.Mov64Imm(0, 0),
            Instruction.JumpImm(BPF_JEQ, 0, 0, 1),
            Instruction.LoadMem(BPF_DW, 0, 0, 0),
            Instruction.Exit(),
        ];
        var r = Verify(program);
        Assert.That(r.Accepted, Is.True);
        Assert.That(r.SanitizeDeadCode(program)[2], Is.EqualTo(Instruction.Ja(-1)));
        Assert.That(r.SanitizeDeadCode(program)[3], Is.EqualTo(Instruction.Exit()));
    }

    [Test]
    public void Unprivileged_loads_are_limited_to_4096_instructions()
    {
        var program = Enumerable.Repeat(Instruction.Mov64Imm(0, 0), 4096).Append(Instruction.Exit()).ToArray();
        var r = Kernel.Sim.Bpf.Verifier.Verifier.Verify(program, new VerifierOptions { ProgramType = new SocketFilterProgramType(), Privileged = false });
        Assert.That(r.Accepted, Is.False);
        Assert.That(r.Error, Does.Contain("4096"));
        Assert.That(Kernel.Sim.Bpf.Verifier.Verifier.Verify(program, new VerifierOptions()).Accepted, Is.True);
    }
}
