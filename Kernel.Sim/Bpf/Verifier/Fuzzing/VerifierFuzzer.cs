using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Verifier.Fuzzing;

/// <summary>One generated program and what happened to it.</summary>
public sealed record FuzzCase(Instruction[] Program, int MemSize, bool Accepted, string? Error, BpfRunError RunError, string? RunMessage);

/// <summary>Counts of a fuzz campaign.</summary>
public sealed record FuzzSummary(int Generated, int Accepted, int Rejected, int Violations, int RunsExecuted, IReadOnlyList<FuzzCase> ViolationCases);

/// <summary>
/// Generates well-formed random and mutated programs for the <c>raw</c> convention (R1 = memory block, R2 its
/// size), biased towards what the verifier must get right: memory accesses through derived and masked
/// pointers, stack spills, branches on loaded values, bounded loops and helper calls. Every accepted program
/// runs in the checked interpreter on several random memory contents; a memory fault (or any fault a verified
/// program cannot have) in an accepted program is a soundness violation.
/// </summary>
public sealed class VerifierFuzzer
{
    private readonly Random rng;
    private readonly List<Instruction[]> acceptedPool = [];
    private readonly HelperRegistry helpers = HelperRegistry.CreateConformance();

    public VerifierFuzzer(int seed) => rng = new Random(seed);

    /// <summary>Runs <paramref name="count"/> programs; <paramref name="onCase"/> sees each one.</summary>
    public FuzzSummary Run(int count, Action<FuzzCase>? onCase = null)
    {
        int accepted = 0, rejected = 0, runs = 0;
        var violations = new List<FuzzCase>();
        for (var n = 0; n < count; n++)
        {
            var memSize = rng.Next(4) == 0 ? 0 : 8 * rng.Next(1, 9);
            var program = acceptedPool.Count > 0 && rng.Next(4) == 0 ? Mutate(acceptedPool[rng.Next(acceptedPool.Count)]) : Generate(memSize);
            var result = Verifier.Verify(program, new VerifierOptions { MemSize = memSize, ComplexityLimit = 200_000 });
            var runError = BpfRunError.None;
            string? runMessage = null;
            if (result.Accepted)
            {
                accepted++;
                var runnable = result.SanitizeDeadCode(program);
                if (acceptedPool.Count < 256)
                    acceptedPool.Add(program);
                for (var r = 0; r < 3 && runError == BpfRunError.None; r++)
                {
                    var memory = new byte[memSize];
                    rng.NextBytes(memory);
                    BpfRunResult run;
                    try
                    {
                        var interpreter = new BpfInterpreter(runnable, helpers, options: new BpfInterpreterOptions { InstructionBudget = 2_000_000 });
                        run = interpreter.Run(memory);
                    }
                    catch (BpfDecodeException e)
                    {
                        // The verifier accepted what the interpreter's decoder refuses: report it as a violation.
                        runError = BpfRunError.InvalidInstruction;
                        runMessage = "decoder: " + e.Message;
                        break;
                    }

                    runs++;
                    if (IsViolation(run.Error))
                    {
                        runError = run.Error;
                        runMessage = run.Message;
                    }
                }
            }
            else
            {
                rejected++;
            }

            var fc = new FuzzCase(program, memSize, result.Accepted, result.Error, runError, runMessage);
            if (runError != BpfRunError.None)
                violations.Add(fc);
            onCase?.Invoke(fc);
        }

        return new FuzzSummary(count, accepted, rejected, violations.Count, runs, violations);
    }

    /// <summary>Faults a verified program must never have (unknown helpers and the budget are not safety).</summary>
    public static bool IsViolation(BpfRunError error) => error is BpfRunError.OutOfBounds or BpfRunError.JumpOutOfRange
        or BpfRunError.PastEnd or BpfRunError.CallDepthExceeded or BpfRunError.MisalignedAtomic or BpfRunError.InvalidInstruction;

    private byte Reg() => (byte)rng.Next(0, 10);

    private byte ScratchReg() => (byte)rng.Next(3, 10);

    private static readonly byte[] AluOps = [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH];
    private static readonly byte[] JmpOps = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE];
    private static readonly byte[] Sizes = [BPF_B, BPF_H, BPF_W, BPF_DW];

    private int SmallImm() => rng.Next(6) switch
    {
        0 => rng.Next(-4, 5),
        1 => rng.Next(0, 64),
        2 => 1 << rng.Next(0, 31),
        3 => rng.Next(),
        4 => -rng.Next(0, 600),
        _ => rng.Next(0, 16) * 8,
    };

    /// <summary>A fresh program: straight-line blocks with forward branches, a possible bounded loop, an exit.</summary>
    public Instruction[] Generate(int memSize)
    {
        var code = new List<Instruction>();
        // Keep the memory pointer in r6 and a few initialised scalars around.
        code.Add(Instruction.Mov64Reg(6, 1));
        for (var r = 0; r <= 9; r++)
        {
            if (r is 1 or 6 || rng.Next(12) == 0)
                continue;
            code.Add(Instruction.Mov64Imm((byte)r, SmallImm()));
        }

        var body = rng.Next(4, 28);
        for (var i = 0; i < body; i++)
            EmitRandom(code, memSize);
        if (rng.Next(4) == 0)
            EmitLoop(code, memSize);
        code.Add(Instruction.Mov64Imm(0, rng.Next(0, 3)));
        code.Add(Instruction.Exit());
        return [.. code];
    }

    private void EmitRandom(List<Instruction> code, int memSize)
    {
        switch (rng.Next(12))
        {
            case 0:
            case 1:
                {
                    var op = AluOps[rng.Next(AluOps.Length)];
                    var dst = ScratchReg();
                    var alu64 = rng.Next(4) != 0;
                    var imm = op is BPF_LSH or BPF_RSH or BPF_ARSH ? rng.Next(0, alu64 ? 64 : 32) : SmallImm();
                    if (rng.Next(2) == 0)
                        code.Add(alu64 ? Instruction.Alu64Imm(op, dst, imm) : Instruction.Alu32Imm(op, dst, imm));
                    else
                        code.Add(alu64 ? Instruction.Alu64Reg(op, dst, Reg()) : Instruction.Alu32Reg(op, dst, Reg()));
                    break;
                }

            case 2:
                // Load a value from memory, mask or bound it, use it as an index.
                {
                    var idx = ScratchReg();
                    code.Add(Instruction.LoadMem(Sizes[rng.Next(4)], idx, 6, (short)(rng.Next(0, Math.Max(1, memSize + 4)) & ~7)));
                    if (rng.Next(3) != 0)
                        code.Add(Instruction.Alu64Imm(BPF_AND, idx, (1 << rng.Next(0, 7)) - 1));
                    else
                        code.Add(Instruction.JumpImm(JmpOps[rng.Next(JmpOps.Length)], idx, rng.Next(-2, memSize + 4), 2));
                    var ptr = idx == 7 ? (byte)8 : (byte)7;
                    code.Add(Instruction.Mov64Reg(ptr, 6));
                    code.Add(Instruction.Alu64Reg(BPF_ADD, ptr, idx));
                    EmitAccess(code, ptr, memSize);
                    break;
                }

            case 3:
            case 4:
                EmitAccess(code, 6, memSize);
                break;
            case 5:
                {
                    // Stack: store then load, spills of pointers and scalars.
                    var off = (short)(-8 * rng.Next(1, 9) + (rng.Next(16) == 0 ? rng.Next(-3, 4) : 0));
                    var size = Sizes[rng.Next(4)];
                    code.Add(rng.Next(3) == 0 ? Instruction.StoreImm(size, 10, off, SmallImm()) : Instruction.StoreMem(size, 10, Reg(), off));
                    if (rng.Next(2) == 0)
                        code.Add(Instruction.LoadMem(Sizes[rng.Next(4)], ScratchReg(), 10, (short)(off + (rng.Next(4) == 0 ? 8 : 0))));
                    break;
                }

            case 6:
            case 7:
                {
                    var skip = (short)rng.Next(0, 4);
                    var op = JmpOps[rng.Next(JmpOps.Length)];
                    var jmp32 = rng.Next(4) == 0;
                    var insn = rng.Next(2) == 0
                        ? Instruction.JumpImm(op, Reg(), SmallImm(), skip)
                        : Instruction.JumpReg(op, Reg(), Reg(), skip);
                    if (jmp32)
                        insn = new Instruction((byte)(BPF_JMP32 | (insn.Opcode & 0xf8)), insn.Dst, insn.Src, insn.Offset, insn.Imm);
                    code.Add(insn);
                    for (var k = 0; k < skip; k++)
                        EmitSimple(code, memSize);
                    break;
                }

            case 8:
                code.Add(Instruction.Mov64Reg(1, rng.Next(2) == 0 ? (byte)6 : ScratchReg()));
                code.Add(Instruction.Call(5));
                code.Add(Instruction.Mov64Reg(1, 6));
                break;
            case 9:
                {
                    var ptr = ScratchReg();
                    code.Add(Instruction.Mov64Reg(ptr, rng.Next(3) == 0 ? (byte)10 : (byte)6));
                    code.Add(Instruction.Alu64Imm(BPF_ADD, ptr, rng.Next(-72, memSize + 8)));
                    EmitAccess(code, ptr, memSize);
                    break;
                }

            case 10:
                {
                    // Variable stack offset through a masked value.
                    var idx = ScratchReg();
                    var ptr = idx == 8 ? (byte)9 : (byte)8;
                    code.Add(Instruction.Alu64Imm(BPF_AND, idx, rng.Next(2) == 0 ? 0x18 : 0x1f));
                    code.Add(Instruction.Mov64Reg(ptr, 10));
                    code.Add(Instruction.Alu64Imm(BPF_ADD, ptr, -8 * rng.Next(1, 6)));
                    code.Add(Instruction.Alu64Reg(BPF_ADD, ptr, idx));
                    EmitAccess(code, ptr, memSize);
                    break;
                }

            default:
                EmitSimple(code, memSize);
                break;
        }
    }

    private void EmitSimple(List<Instruction> code, int memSize)
    {
        if (rng.Next(2) == 0)
            code.Add(Instruction.Alu64Imm(AluOps[rng.Next(3)], ScratchReg(), SmallImm()));
        else
            EmitAccess(code, rng.Next(3) == 0 ? (byte)10 : (byte)6, memSize);
    }

    private void EmitAccess(List<Instruction> code, byte ptr, int memSize)
    {
        var size = Sizes[rng.Next(4)];
        var bytes = SizeInBytes(size);
        short off;
        if (ptr == 10)
            off = (short)(-8 * rng.Next(1, 10));
        else if (rng.Next(5) != 0 && memSize >= bytes)
            off = (short)(rng.Next(0, ((memSize - bytes) / bytes) + 1) * bytes);
        else
            off = (short)rng.Next(-4, memSize + 4);
        switch (rng.Next(4))
        {
            case 0:
                code.Add(Instruction.StoreMem(size, ptr, Reg(), off));
                break;
            case 1:
                code.Add(Instruction.StoreImm(size, ptr, off, SmallImm()));
                break;
            default:
                code.Add(Instruction.LoadMem(size, ScratchReg(), ptr, off));
                break;
        }
    }

    private void EmitLoop(List<Instruction> code, int memSize)
    {
        // for (r9 = 0; r9 < N; r9++) { body }
        var n = rng.Next(1, 12);
        code.Add(Instruction.Mov64Imm(9, 0));
        var start = code.Count;
        var bodyLen = rng.Next(1, 4);
        for (var i = 0; i < bodyLen; i++)
            EmitSimple(code, memSize);
        code.Add(Instruction.Alu64Imm(BPF_ADD, 9, rng.Next(8) == 0 ? 0 : 1));
        var back = (short)(start - (code.Count + 1));
        code.Add(Instruction.JumpImm(rng.Next(2) == 0 ? BPF_JLT : BPF_JNE, 9, n, back));
    }

    /// <summary>A small random change to an accepted program: a field, an offset, an immediate or a jump.</summary>
    public Instruction[] Mutate(Instruction[] program)
    {
        var p = (Instruction[])program.Clone();
        var edits = 1;
        for (var e = 0; e < edits; e++)
        {
            var i = rng.Next(p.Length - 1);
            var insn = p[i];
            if (insn.Opcode == LdImm64 || (i > 0 && p[i - 1].Opcode == LdImm64))
                continue;
            var usesSrc = (insn.Opcode & BPF_X) != 0 || Class(insn.Opcode) is BPF_LDX or BPF_STX;
            p[i] = rng.Next(4) switch
            {
                0 when insn.Offset != 0 || Class(insn.Opcode) is not (BPF_ALU or BPF_ALU64) =>
                    new Instruction(insn.Opcode, insn.Dst, insn.Src, (short)(insn.Offset + rng.Next(-9, 10)), insn.Imm),
                1 when !usesSrc || Class(insn.Opcode) == BPF_ST => new Instruction(insn.Opcode, insn.Dst, insn.Src, insn.Offset, insn.Imm + rng.Next(-9, 10)),
                2 => new Instruction(insn.Opcode, (byte)rng.Next(0, 10), insn.Src, insn.Offset, insn.Imm),
                3 when usesSrc => new Instruction(insn.Opcode, insn.Dst, (byte)rng.Next(0, 11), insn.Offset, insn.Imm),
                _ => new Instruction(insn.Opcode, insn.Dst, insn.Src, insn.Offset, insn.Imm + rng.Next(-3, 4)),
            };
        }

        return p;
    }
}
