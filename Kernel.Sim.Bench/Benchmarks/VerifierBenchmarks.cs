using BenchmarkDotNet.Attributes;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Verifier;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>
/// Verification speed: a long straight-line program, a branchy one that pruning folds, a bounded loop
/// explored iteration by iteration, and a state explosion stopped by the complexity limit. Divide the
/// processed instruction counts (printed by <c>kernelsim bpf verify</c>) by the mean to get instructions/s.
/// </summary>
[MemoryDiagnoser]
public class VerifierBenchmarks
{
    private Instruction[] straight = [];
    private Instruction[] branchy = [];
    private Instruction[] loop = [];
    private Instruction[] explosion = [];
    private readonly VerifierOptions options = new() { MemSize = 64 };

    [GlobalSetup]
    public void Setup()
    {
        var s = new List<Instruction> { Instruction.Mov64Imm(0, 0) };
        for (var i = 0; i < 4000; i++)
            s.Add(i % 2 == 0 ? Instruction.Alu64Imm(BPF_ADD, 0, i) : Instruction.LoadMem(BPF_W, 3, 1, (short)(i % 60 & ~3)));
        s.Add(Instruction.Exit());
        straight = [.. s];

        var b = new List<Instruction> { Instruction.LoadMem(BPF_DW, 6, 1, 0), Instruction.Mov64Imm(0, 0) };
        for (var i = 0; i < 60; i++)
        {
            b.Add(Instruction.JumpImm(BPF_JSET, 6, 1 << (i % 31), 1));
            b.Add(Instruction.Alu64Imm(BPF_ADD, 0, 1));
        }

        b.Add(Instruction.Exit());
        branchy = [.. b];

        loop =
        [
            Instruction.Mov64Imm(0, 0),
            Instruction.Mov64Imm(2, 0),
            Instruction.Alu64Reg(BPF_ADD, 0, 2),
            Instruction.Alu64Imm(BPF_ADD, 2, 1),
            Instruction.JumpImm(BPF_JLT, 2, 10000, -3),
            Instruction.Exit(),
        ];

        // Each branch changes a value a later jump decides on: no state covers another.
        var e = new List<Instruction> { Instruction.LoadMem(BPF_DW, 6, 1, 0), Instruction.Mov64Imm(0, 0) };
        for (var i = 0; i < 40; i++)
        {
            e.Add(Instruction.JumpImm(BPF_JSET, 6, 1 << (i % 31), 1));
            e.Add(Instruction.Alu64Imm(BPF_ADD, 0, 1 << (i % 20)));
        }

        e.Add(Instruction.JumpImm(BPF_JEQ, 0, 12345, 0));
        e.Add(Instruction.Exit());
        explosion = [.. e];
    }

    [Benchmark]
    public bool StraightLine() => Verifier.Verify(straight, options).Accepted;

    [Benchmark]
    public bool Branchy() => Verifier.Verify(branchy, options).Accepted;

    [Benchmark]
    public bool BoundedLoop() => Verifier.Verify(loop, options).Accepted;

    [Benchmark]
    public bool StateExplosion() => Verifier.Verify(explosion, options).Accepted;
}
