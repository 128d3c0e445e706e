using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>A forward or backward jump target in a <see cref="BpfCodeBuilder"/>.</summary>
public readonly record struct BpfLabel(int Id);

/// <summary>
/// Emits eBPF instructions with symbolic jump targets: the generators of fetch and filter programs write code in
/// order and bind labels later; <see cref="Build"/> resolves every jump offset.
/// </summary>
public sealed class BpfCodeBuilder
{
    private readonly List<Instruction> _code = [];
    private readonly List<int> _labels = [];
    private readonly List<(int At, BpfLabel Label)> _fixups = [];

    /// <summary>Instructions emitted so far (an lddw counts two).</summary>
    public int Count => _code.Count;

    /// <summary>A new, unbound label.</summary>
    public BpfLabel NewLabel()
    {
        _labels.Add(-1);
        return new BpfLabel(_labels.Count - 1);
    }

    /// <summary>Binds <paramref name="label"/> to the next instruction.</summary>
    public void Bind(BpfLabel label)
    {
        if (_labels[label.Id] >= 0)
            throw new InvalidOperationException($"label {label.Id} bound twice");
        _labels[label.Id] = _code.Count;
    }

    public void Emit(Instruction insn) => _code.Add(insn);

    public void Mov(byte dst, int imm) => Emit(Instruction.Mov64Imm(dst, imm));

    public void MovReg(byte dst, byte src) => Emit(Instruction.Mov64Reg(dst, src));

    public void Alu(byte op, byte dst, int imm) => Emit(Instruction.Alu64Imm(op, dst, imm));

    public void AluReg(byte op, byte dst, byte src) => Emit(Instruction.Alu64Reg(op, dst, src));

    /// <summary>dst += imm, skipped when imm is 0.</summary>
    public void Add(byte dst, long imm)
    {
        if (imm == 0)
            return;
        if (imm is >= int.MinValue and <= int.MaxValue)
        {
            Alu(BPF_ADD, dst, (int)imm);
            return;
        }

        LoadImm64(Scratch, (ulong)imm);
        AluReg(BPF_ADD, dst, Scratch);
    }

    /// <summary>The register <see cref="Add"/> uses for 64-bit constants (r5: never live across our helper calls).</summary>
    public const byte Scratch = 5;

    public void LoadImm64(byte dst, ulong value, byte src = 0, int? imm = null)
    {
        var (first, second) = Instruction.LdImm64Pair(dst, value, src);
        if (imm is { } fd)
            first = new Instruction(first.Opcode, first.Dst, first.Src, first.Offset, fd);
        _code.Add(first);
        _code.Add(second);
    }

    public void Load(byte size, byte dst, byte src, int off) => Emit(Instruction.LoadMem(size, dst, src, checked((short)off)));

    public void Store(byte size, byte dst, byte src, int off) => Emit(Instruction.StoreMem(size, dst, src, checked((short)off)));

    public void StoreImm(byte size, byte dst, int off, int imm) => Emit(Instruction.StoreImm(size, dst, checked((short)off), imm));

    public void Call(int helper) => Emit(Instruction.Call(helper));

    public void Exit() => Emit(Instruction.Exit());

    /// <summary>
    /// <c>r0 = bpf_map_lookup_elem(map, &amp;key)</c> with the u32 key at <c>r10-4</c>, returning 0 when the lookup
    /// fails; afterwards r0 is the value pointer. Clobbers r1–r5.
    /// </summary>
    public void MapLookupOrExit(int mapFd, int key)
    {
        var found = NewLabel();
        StoreImm(Opcodes.BPF_W, 10, -4, key);
        MovReg(2, 10);
        Add(2, -4);
        LoadImm64(1, 0, Opcodes.BPF_PSEUDO_MAP_FD, mapFd);
        Call(1);
        JumpIf(Opcodes.BPF_JNE, 0, 0, found);
        Exit();
        Bind(found);
    }

    /// <summary><c>if dst OP imm goto label</c>.</summary>
    public void JumpIf(byte op, byte dst, int imm, BpfLabel label)
    {
        _fixups.Add((_code.Count, label));
        Emit(Instruction.JumpImm(op, dst, imm, 0));
    }

    /// <summary><c>if dst OP src goto label</c>.</summary>
    public void JumpIfReg(byte op, byte dst, byte src, BpfLabel label)
    {
        _fixups.Add((_code.Count, label));
        Emit(Instruction.JumpReg(op, dst, src, 0));
    }

    /// <summary><c>goto label</c>.</summary>
    public void Jump(BpfLabel label)
    {
        _fixups.Add((_code.Count, label));
        Emit(Instruction.Ja(0));
    }

    /// <summary>The program with every jump resolved.</summary>
    public Instruction[] Build()
    {
        var code = _code.ToArray();
        foreach (var (at, label) in _fixups)
        {
            var target = _labels[label.Id];
            if (target < 0)
                throw new InvalidOperationException($"label {label.Id} never bound");
            var insn = code[at];
            code[at] = new Instruction(insn.Opcode, insn.Dst, insn.Src, checked((short)(target - at - 1)), insn.Imm);
        }

        return code;
    }
}
