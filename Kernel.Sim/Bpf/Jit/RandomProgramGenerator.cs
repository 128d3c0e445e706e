using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Jit;

/// <summary>
/// Random, well-formed, memory-safe raw programs for differential testing of the JIT against the interpreter:
/// every ALU form (32/64-bit, K/X, div/mod/sdiv/smod, shifts, neg, movsx, bswap/le/be), loads (incl.
/// sign-extending) and stores of every size on the input memory and the stack, atomics on aligned stack slots,
/// forward JMP/JMP32 branches of every condition, gotol, bounded loops and a bpf-to-bpf subprogram with its own
/// frame. Memory accesses stay inside the input (<see cref="MemorySize"/> bytes, based at r9) and the first 64
/// bytes of the stack; every register is written before it is read; so the verifier accepts nearly all of them.
/// The program ends by storing every scalar register into the input, so a divergence shows in memory as well as r0.
/// Deterministic for a seed.
/// </summary>
public sealed class RandomProgramGenerator
{
    /// <summary>Bytes of input memory the programs read and write.</summary>
    public const int MemorySize = 64;

    private const byte MemBase = 9;
    private const byte LoopCounter = 6;
    private static readonly byte[] s_scalars = [0, 1, 2, 3, 4, 5, 7, 8];
    private static readonly byte[] s_aluOps = [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH, BPF_END];
    private static readonly byte[] s_jumpOps = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE];
    private static readonly byte[] s_sizes = [BPF_B, BPF_H, BPF_W, BPF_DW];
    private static readonly int[] s_atomicOps = [BPF_ADD, BPF_AND, BPF_OR, BPF_XOR, BPF_ADD | BPF_FETCH, BPF_AND | BPF_FETCH, BPF_OR | BPF_FETCH, BPF_XOR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG];

    private readonly Random _random;

    public RandomProgramGenerator(int seed) => _random = new Random(seed);

    /// <summary>The next program and its input memory.</summary>
    public (Instruction[] Program, byte[] Memory) Next()
    {
        var memory = new byte[MemorySize];
        _random.NextBytes(memory);
        var main = new List<Item>();
        var withSubprogram = _random.Next(3) == 0;

        // Prologue: r9 = the input, every scalar register and r6 initialised, the first 64 stack bytes written.
        main.Add(Item.Of(Instruction.Mov64Reg(MemBase, 1)));
        foreach (var r in s_scalars)
            main.Add(Item.Of(RandomConstant(r)));
        main.Add(Item.Of(Instruction.Mov64Imm(LoopCounter, _random.Next(-8, 8))));
        for (var slot = 1; slot <= 8; slot++)
            main.Add(Item.Of(Instruction.StoreMem(BPF_DW, 10, Pick(s_scalars), (short)(-8 * slot))));

        var body = _random.Next(8, 40);
        for (var k = 0; k < body; k++)
        {
            var choice = _random.Next(100);
            if (choice < 8)
                main.Add(Item.Branch(RandomCondition(), _random.Next(1, 6)));
            else if (choice < 10)
            {
                // gotol skips code that the preceding conditional branch (taken) still reaches: Linux rejects
                // unreachable instructions.
                main.Add(Item.Branch(RandomCondition(), 1));
                main.Add(Item.Branch(new Instruction(BPF_JMP32 | BPF_JA, 0, 0, 0, 0), _random.Next(1, 4)));
            }
            else if (choice < 14)
                AddLoop(main);
            else if (choice < 17 && withSubprogram)
                AddCall(main);
            else
                main.Add(Item.Of(RandomStraight(allowLoopCounter: true)));
        }

        // Epilogue: all scalars to memory (r0..r8 cover 8 of the 8-byte cells), then exit with r0.
        var cell = 0;
        foreach (var r in s_scalars)
            main.Add(Item.Of(Instruction.StoreMem(BPF_DW, MemBase, r, (short)(8 * cell++))));
        main.Add(Item.Of(Instruction.Exit()));

        var code = Layout(main);
        // Only when something calls it: Linux rejects an unreachable subprogram.
        if (main.Any(i => i.IsCall))
            code.AddRange(Subprogram());
        PatchCalls(code, main);
        return ([.. code], memory);
    }

    // ------------------------------------------------------------ items

    private sealed class Item
    {
        public Instruction[] Code = [];
        public int BranchSkip = -1;
        public bool IsCall;

        public static Item Of(params Instruction[] code) => new() { Code = code };

        public static Item Branch(Instruction jump, int skipItems) => new() { Code = [jump], BranchSkip = skipItems };
    }

    private void AddLoop(List<Item> items)
    {
        // for (r6 = n; r6 != 0; r6--) { straight-line body that leaves r6 alone }
        var iterations = _random.Next(1, 7);
        var bodyLength = _random.Next(1, 6);
        var code = new List<Instruction> { Instruction.Mov64Imm(LoopCounter, iterations) };
        for (var k = 0; k < bodyLength; k++)
            code.AddRange(RandomStraight(allowLoopCounter: false));
        code.Add(Instruction.Alu64Imm(BPF_SUB, LoopCounter, 1));
        var back = -(code.Count - 1 + 1);
        code.Add(Instruction.JumpImm(BPF_JNE, LoopCounter, 0, (short)back));
        items.Add(Item.Of([.. code]));
    }

    private void AddCall(List<Item> items)
    {
        // The call clobbers r1-r5 (the verifier makes them unreadable), so they are rewritten after it.
        var code = new List<Instruction> { new(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0) };
        for (byte r = 1; r <= 5; r++)
            code.AddRange(RandomConstant(r));
        items.Add(new Item { Code = [.. code], IsCall = true });
    }

    /// <summary>The callee: arithmetic on its arguments r1–r5, a round trip through its own frame, r0 out.</summary>
    private List<Instruction> Subprogram()
    {
        var code = new List<Instruction> { Instruction.Mov64Reg(0, (byte)_random.Next(1, 6)) };
        code.Add(Instruction.StoreMem(BPF_DW, 10, (byte)_random.Next(1, 6), -8));
        code.Add(Instruction.StoreImm(BPF_W, 10, -16, _random.Next()));
        byte[] args = [0, 1, 2, 3, 4, 5];
        for (var k = _random.Next(2, 8); k > 0; k--)
            code.Add(RandomAlu(args[_random.Next(args.Length)], args));
        code.Add(Instruction.LoadMem(s_sizes[_random.Next(4)], (byte)_random.Next(1, 6), 10, -8));
        code.Add(Instruction.Alu64Reg(BPF_ADD, 0, (byte)_random.Next(1, 6)));
        code.Add(Instruction.Exit());
        return code;
    }

    private static List<Instruction> Layout(List<Item> items)
    {
        var starts = new int[items.Count + 1];
        for (var k = 0; k < items.Count; k++)
            starts[k + 1] = starts[k] + items[k].Code.Length;
        var code = new List<Instruction>();
        for (var k = 0; k < items.Count; k++)
        {
            var item = items[k];
            if (item.BranchSkip >= 0)
            {
                // Forward branches only (loops have their own back edge), landing on an item boundary.
                var target = Math.Min(k + 1 + item.BranchSkip, items.Count - 1);
                var off = starts[target] - (starts[k] + 1);
                var j = item.Code[0];
                code.Add(j.Opcode == (BPF_JMP32 | BPF_JA)
                    ? new Instruction(j.Opcode, 0, 0, 0, off)
                    : new Instruction(j.Opcode, j.Dst, j.Src, (short)off, j.Imm));
            }
            else
            {
                code.AddRange(item.Code);
            }
        }

        return code;
    }

    private static void PatchCalls(List<Instruction> code, List<Item> items)
    {
        var mainLength = items.Sum(i => i.Code.Length);
        var at = 0;
        foreach (var item in items)
        {
            if (item.IsCall)
                code[at] = new Instruction(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, mainLength - (at + 1));
            at += item.Code.Length;
        }
    }

    // ------------------------------------------------------------ instructions

    private Instruction[] RandomStraight(bool allowLoopCounter)
    {
        var choice = _random.Next(100);
        if (choice < 55)
            return [RandomAlu(Pick(s_scalars), allowLoopCounter ? [.. s_scalars, LoopCounter] : s_scalars)];
        if (choice < 65)
            return RandomConstant(Pick(s_scalars));
        if (choice < 85)
            return [RandomMemoryAccess()];
        return [RandomAtomic()];
    }

    private Instruction[] RandomConstant(byte dst)
    {
        if (_random.Next(4) == 0)
        {
            var (first, second) = Instruction.LdImm64Pair(dst, (ulong)_random.NextInt64() ^ ((ulong)_random.Next(2) << 63));
            return [first, second];
        }

        return [_random.Next(2) == 0 ? Instruction.Mov64Imm(dst, Interesting()) : Instruction.Alu32Imm(BPF_MOV, dst, Interesting())];
    }

    /// <summary>Immediates around the edges: 0, ±1, INT_MIN/MAX, powers of two, and plain random values.</summary>
    private int Interesting() => _random.Next(8) switch
    {
        0 => 0,
        1 => -1,
        2 => 1,
        3 => int.MinValue,
        4 => int.MaxValue,
        5 => 1 << _random.Next(31),
        6 => _random.Next(-16, 16),
        _ => _random.Next(int.MinValue, int.MaxValue),
    };

    private Instruction RandomAlu(byte dst, byte[] sources)
    {
        var is64 = _random.Next(2) == 0;
        var cls = is64 ? BPF_ALU64 : BPF_ALU;
        var op = s_aluOps[_random.Next(s_aluOps.Length)];
        var isX = _random.Next(2) == 0;
        var src = sources[_random.Next(sources.Length)];
        switch (op)
        {
            case BPF_NEG:
                return new Instruction((byte)(cls | BPF_NEG), dst, 0, 0, 0);
            case BPF_END:
                var width = new[] { 16, 32, 64 }[_random.Next(3)];
                var toBe = !is64 && _random.Next(2) == 0;
                return new Instruction((byte)(cls | BPF_END | (toBe ? BPF_TO_BE : BPF_TO_LE)), dst, 0, 0, width);
            case BPF_LSH:
            case BPF_RSH:
            case BPF_ARSH:
                // The verifier rejects constant shifts of the width or more; register shifts are masked.
                return isX
                    ? new Instruction((byte)(cls | op | BPF_X), dst, src, 0, 0)
                    : new Instruction((byte)(cls | op | BPF_K), dst, 0, 0, _random.Next(is64 ? 64 : 32));
            case BPF_MOV:
                if (!isX)
                    return new Instruction((byte)(cls | BPF_MOV | BPF_K), dst, 0, 0, Interesting());
                short sx = (short)(is64 ? new[] { 0, 8, 16, 32 }[_random.Next(4)] : new[] { 0, 8, 16 }[_random.Next(3)]);
                return new Instruction((byte)(cls | BPF_MOV | BPF_X), dst, src, sx, 0);
            case BPF_DIV:
            case BPF_MOD:
                short signed = (short)_random.Next(2);
                return isX
                    ? new Instruction((byte)(cls | op | BPF_X), dst, src, signed, 0)
                    : new Instruction((byte)(cls | op | BPF_K), dst, 0, signed, Interesting() is var k && k != 0 ? k : 7); // Linux rejects a constant zero divisor
            default:
                return isX
                    ? new Instruction((byte)(cls | op | BPF_X), dst, src, 0, 0)
                    : new Instruction((byte)(cls | op | BPF_K), dst, 0, 0, Interesting());
        }
    }

    private Instruction RandomMemoryAccess()
    {
        var size = s_sizes[_random.Next(4)];
        var bytes = SizeInBytes(size);
        var onStack = _random.Next(2) == 0;
        byte baseReg = onStack ? (byte)10 : MemBase;
        // Stack: aligned (Linux checks stack alignment strictly) inside the 64 initialised bytes below r10;
        // input: anywhere the access fits.
        var off = (short)(onStack ? -bytes * _random.Next(1, 64 / bytes + 1) : _random.Next(0, MemorySize - bytes + 1));
        var dst = Pick(s_scalars);
        return _random.Next(3) switch
        {
            0 => _random.Next(3) == 0 && size != BPF_DW
                ? new Instruction((byte)(BPF_LDX | BPF_MEMSX | size), dst, baseReg, off, 0)
                : Instruction.LoadMem(size, dst, baseReg, off),
            1 => Instruction.StoreMem(size, baseReg, Pick(s_scalars), off),
            _ => Instruction.StoreImm(size, baseReg, off, Interesting()),
        };
    }

    private Instruction RandomAtomic()
    {
        var wide = _random.Next(2) == 0;
        var bytes = wide ? 8 : 4;
        // Aligned: r10 is 8-aligned on both engines, and so is the slot.
        var off = (short)(-bytes * _random.Next(1, 64 / bytes + 1));
        var src = Pick(s_scalars);
        if (src == 0)
            src = 2; // cmpxchg compares with r0 and writes it; keep src distinct so fetch forms are interesting
        return new Instruction((byte)(BPF_STX | BPF_ATOMIC | (wide ? BPF_DW : BPF_W)), 10, src, off, s_atomicOps[_random.Next(s_atomicOps.Length)]);
    }

    private Instruction RandomCondition()
    {
        var op = s_jumpOps[_random.Next(s_jumpOps.Length)];
        var cls = _random.Next(2) == 0 ? BPF_JMP : BPF_JMP32;
        return _random.Next(2) == 0
            ? new Instruction((byte)(cls | op | BPF_X), Pick(s_scalars), Pick(s_scalars), 0, 0)
            : new Instruction((byte)(cls | op | BPF_K), Pick(s_scalars), 0, 0, Interesting());
    }

    private byte Pick(byte[] registers) => registers[_random.Next(registers.Length)];
}
