using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Interpreter;

/// <summary>
/// The reference engine: executes a validated program with RFC 9669 semantics, checking every memory access
/// against the allowed regions (the active stack frames, the input memory, the <see cref="MemoryRegionTable"/>)
/// and every jump, call and the instruction budget, so a bad program ends with a precise
/// <see cref="BpfRunResult"/> rather than a host crash. Registers hold real host addresses, as in Linux.
/// The stack (8 frames of 512 bytes) and the program are allocated once, pinned, when the interpreter is
/// created; a run allocates nothing. One run at a time per instance.
/// </summary>
public sealed unsafe class BpfInterpreter : IBpfProgram
{
    private const int StackBytes = BpfInterpreterOptions.MaxCallFrames * BpfInterpreterOptions.FrameSize;

    private readonly Instruction[] _code;
    private readonly ulong* _words;
    private readonly int _length;
    private readonly byte[] _stack;
    private readonly HelperRegistry _helpers;
    private readonly HelperContext _context;
    private readonly long _budget;

    /// <summary>Validates and loads <paramref name="program"/>; throws <see cref="BpfDecodeException"/> if malformed.</summary>
    public BpfInterpreter(ReadOnlySpan<Instruction> program, HelperRegistry helpers, HelperContext? context = null, BpfInterpreterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(helpers);
        ProgramValidator.Validate(program);
        // Pinned once so the run loop can use raw pointers without a fixed statement per access. One extra
        // all-zero slot follows the program: falling off the end lands on it (opcode 0 is never valid), so the
        // loop needs no bounds check per instruction.
        _length = program.Length;
        _code = GC.AllocateArray<Instruction>(program.Length + 1, pinned: true);
        program.CopyTo(_code);
        // Pinned arrays never move: the address stays valid for tail calls from other interpreters.
        _words = (ulong*)Unsafe.AsPointer(ref _code[0]);
        _stack = GC.AllocateArray<byte>(StackBytes, pinned: true);
        _helpers = helpers;
        _context = context ?? new HelperContext(new MemoryRegionTable());
        _budget = (options ?? new BpfInterpreterOptions()).InstructionBudget;
    }

    /// <summary>The program's name (for prog arrays and messages).</summary>
    public string Name { get; init; } = "";

    /// <summary>The loaded program.</summary>
    public ReadOnlySpan<Instruction> Program => _code.AsSpan(0, _length);

    /// <summary>What helpers see; its region table also extends what the program may touch.</summary>
    public HelperContext Context => _context;

    /// <summary>Runs with r1 = address of <paramref name="memory"/> and r2 = its length (the conformance contract).</summary>
    public BpfRunResult Run(Span<byte> memory)
    {
        fixed (byte* p = memory)
            return Run(p, memory.Length);
    }

    /// <summary>Runs with r1 = <paramref name="memory"/> and r2 = <paramref name="length"/>; the range is readable and writable.</summary>
    public BpfRunResult Run(byte* memory, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        // A deterministic stack: no run sees what the previous one left behind.
        _stack.AsSpan().Clear();
        fixed (byte* stack = _stack)
        {
            _context.BeginRun((ulong)stack, StackBytes, (ulong)memory, (ulong)length);
            return Execute(_words, stack, memory, length);
        }
    }

    private struct Frame
    {
        public int ReturnPc;
        public int Length;
        public ulong* Words;
        public ulong R6, R7, R8, R9, R10;
    }

    // One big switch over the opcode byte: the C# compiler turns it into a jump table, and keeping every case
    // inline (no per-class helper calls) keeps the dispatch to one indirect branch per instruction.
    private BpfRunResult Execute(ulong* words, byte* stack, byte* memory, int memoryLength)
    {
        var r = stackalloc ulong[16];
        var frames = stackalloc Frame[BpfInterpreterOptions.MaxCallFrames];
        var stackTop = (ulong)stack + StackBytes;
        var stackLo = stackTop - BpfInterpreterOptions.FrameSize;
        var memLo = (ulong)memory;
        var memLen = (ulong)memoryLength;
        r[1] = memLo;
        r[2] = memLen;
        r[10] = stackTop;
        var length = _length;
        var budget = _budget;
        // Counting down and deriving the executed count on exit keeps one fewer variable live in the loop.
        var remaining = budget;
        var depth = 0;
        var pc = 0;
        long target = 0;
        ulong addr;
        int size;
        var write = false;

        // Failures always happen before pc moves past the faulting instruction's increment, so the faulting
        // index is pc - 1 and the executed count is budget - remaining: neither needs its own variable.
        while (true)
        {
            if (--remaining < 0)
                return Fail(BpfRunError.BudgetExceeded, pc, budget, detail: budget);
            // One 8-byte load, fields by shifts: cheaper than copying the struct and reading its properties.
            var word = words[pc++];
            var d = (int)(word >> 8) & 0x0f;
            var s = (int)(word >> 12) & 0x0f;
            var off = (short)(word >> 16);
            var imm = (int)(word >> 32);
            switch ((byte)word)
            {
                // ---- ALU64: K is imm sign-extended to 64 bits.
                case BPF_ALU64 | BPF_ADD | BPF_K: r[d] += (ulong)(long)imm; continue;
                case BPF_ALU64 | BPF_ADD | BPF_X: r[d] += r[s]; continue;
                case BPF_ALU64 | BPF_SUB | BPF_K: r[d] -= (ulong)(long)imm; continue;
                case BPF_ALU64 | BPF_SUB | BPF_X: r[d] -= r[s]; continue;
                case BPF_ALU64 | BPF_MUL | BPF_K: r[d] *= (ulong)(long)imm; continue;
                case BPF_ALU64 | BPF_MUL | BPF_X: r[d] *= r[s]; continue;
                case BPF_ALU64 | BPF_DIV | BPF_K: r[d] = Div64(r[d], (ulong)(long)imm, off); continue;
                case BPF_ALU64 | BPF_DIV | BPF_X: r[d] = Div64(r[d], r[s], off); continue;
                case BPF_ALU64 | BPF_MOD | BPF_K: r[d] = Mod64(r[d], (ulong)(long)imm, off); continue;
                case BPF_ALU64 | BPF_MOD | BPF_X: r[d] = Mod64(r[d], r[s], off); continue;
                case BPF_ALU64 | BPF_OR | BPF_K: r[d] |= (ulong)(long)imm; continue;
                case BPF_ALU64 | BPF_OR | BPF_X: r[d] |= r[s]; continue;
                case BPF_ALU64 | BPF_AND | BPF_K: r[d] &= (ulong)(long)imm; continue;
                case BPF_ALU64 | BPF_AND | BPF_X: r[d] &= r[s]; continue;
                case BPF_ALU64 | BPF_XOR | BPF_K: r[d] ^= (ulong)(long)imm; continue;
                case BPF_ALU64 | BPF_XOR | BPF_X: r[d] ^= r[s]; continue;
                case BPF_ALU64 | BPF_LSH | BPF_K: r[d] <<= imm & 63; continue;
                case BPF_ALU64 | BPF_LSH | BPF_X: r[d] <<= (int)(r[s] & 63); continue;
                case BPF_ALU64 | BPF_RSH | BPF_K: r[d] >>= imm & 63; continue;
                case BPF_ALU64 | BPF_RSH | BPF_X: r[d] >>= (int)(r[s] & 63); continue;
                case BPF_ALU64 | BPF_ARSH | BPF_K: r[d] = (ulong)((long)r[d] >> (imm & 63)); continue;
                case BPF_ALU64 | BPF_ARSH | BPF_X: r[d] = (ulong)((long)r[d] >> (int)(r[s] & 63)); continue;
                case BPF_ALU64 | BPF_NEG: r[d] = 0UL - r[d]; continue;
                case BPF_ALU64 | BPF_MOV | BPF_K: r[d] = (ulong)(long)imm; continue;
                case BPF_ALU64 | BPF_MOV | BPF_X: r[d] = SignExtend64(r[s], off); continue;
                case BPF_ALU64 | BPF_END | BPF_TO_LE: r[d] = ByteSwap(r[d], imm); continue;

                // ---- ALU (32-bit): operate on the low halves, zero-extend the result.
                case BPF_ALU | BPF_ADD | BPF_K: r[d] = (uint)r[d] + (uint)imm; continue;
                case BPF_ALU | BPF_ADD | BPF_X: r[d] = (uint)r[d] + (uint)r[s]; continue;
                case BPF_ALU | BPF_SUB | BPF_K: r[d] = (uint)r[d] - (uint)imm; continue;
                case BPF_ALU | BPF_SUB | BPF_X: r[d] = (uint)r[d] - (uint)r[s]; continue;
                case BPF_ALU | BPF_MUL | BPF_K: r[d] = (uint)r[d] * (uint)imm; continue;
                case BPF_ALU | BPF_MUL | BPF_X: r[d] = (uint)r[d] * (uint)r[s]; continue;
                case BPF_ALU | BPF_DIV | BPF_K: r[d] = Div32((uint)r[d], (uint)imm, off); continue;
                case BPF_ALU | BPF_DIV | BPF_X: r[d] = Div32((uint)r[d], (uint)r[s], off); continue;
                case BPF_ALU | BPF_MOD | BPF_K: r[d] = Mod32((uint)r[d], (uint)imm, off); continue;
                case BPF_ALU | BPF_MOD | BPF_X: r[d] = Mod32((uint)r[d], (uint)r[s], off); continue;
                case BPF_ALU | BPF_OR | BPF_K: r[d] = (uint)r[d] | (uint)imm; continue;
                case BPF_ALU | BPF_OR | BPF_X: r[d] = (uint)r[d] | (uint)r[s]; continue;
                case BPF_ALU | BPF_AND | BPF_K: r[d] = (uint)r[d] & (uint)imm; continue;
                case BPF_ALU | BPF_AND | BPF_X: r[d] = (uint)r[d] & (uint)r[s]; continue;
                case BPF_ALU | BPF_XOR | BPF_K: r[d] = (uint)r[d] ^ (uint)imm; continue;
                case BPF_ALU | BPF_XOR | BPF_X: r[d] = (uint)r[d] ^ (uint)r[s]; continue;
                case BPF_ALU | BPF_LSH | BPF_K: r[d] = (uint)r[d] << (imm & 31); continue;
                case BPF_ALU | BPF_LSH | BPF_X: r[d] = (uint)r[d] << (int)(r[s] & 31); continue;
                case BPF_ALU | BPF_RSH | BPF_K: r[d] = (uint)r[d] >> (imm & 31); continue;
                case BPF_ALU | BPF_RSH | BPF_X: r[d] = (uint)r[d] >> (int)(r[s] & 31); continue;
                case BPF_ALU | BPF_ARSH | BPF_K: r[d] = (uint)((int)r[d] >> (imm & 31)); continue;
                case BPF_ALU | BPF_ARSH | BPF_X: r[d] = (uint)((int)r[d] >> (int)(r[s] & 31)); continue;
                case BPF_ALU | BPF_NEG: r[d] = 0u - (uint)r[d]; continue;
                case BPF_ALU | BPF_MOV | BPF_K: r[d] = (uint)imm; continue;
                case BPF_ALU | BPF_MOV | BPF_X: r[d] = (uint)SignExtend64(r[s], off); continue;
                case BPF_ALU | BPF_END | BPF_TO_LE: r[d] = Truncate(r[d], imm); continue;
                case BPF_ALU | BPF_END | BPF_TO_BE: r[d] = ByteSwap(r[d], imm); continue;

                // ---- JMP: K is imm sign-extended to 64 bits.
                case BPF_JMP | BPF_JA: target = pc + off; goto Jump;
                case BPF_JMP32 | BPF_JA: target = (long)pc + imm; goto Jump;
                case BPF_JMP | BPF_JEQ | BPF_K: if (r[d] == (ulong)(long)imm) goto Branch; continue;
                case BPF_JMP | BPF_JEQ | BPF_X: if (r[d] == r[s]) goto Branch; continue;
                case BPF_JMP | BPF_JNE | BPF_K: if (r[d] != (ulong)(long)imm) goto Branch; continue;
                case BPF_JMP | BPF_JNE | BPF_X: if (r[d] != r[s]) goto Branch; continue;
                case BPF_JMP | BPF_JGT | BPF_K: if (r[d] > (ulong)(long)imm) goto Branch; continue;
                case BPF_JMP | BPF_JGT | BPF_X: if (r[d] > r[s]) goto Branch; continue;
                case BPF_JMP | BPF_JGE | BPF_K: if (r[d] >= (ulong)(long)imm) goto Branch; continue;
                case BPF_JMP | BPF_JGE | BPF_X: if (r[d] >= r[s]) goto Branch; continue;
                case BPF_JMP | BPF_JLT | BPF_K: if (r[d] < (ulong)(long)imm) goto Branch; continue;
                case BPF_JMP | BPF_JLT | BPF_X: if (r[d] < r[s]) goto Branch; continue;
                case BPF_JMP | BPF_JLE | BPF_K: if (r[d] <= (ulong)(long)imm) goto Branch; continue;
                case BPF_JMP | BPF_JLE | BPF_X: if (r[d] <= r[s]) goto Branch; continue;
                case BPF_JMP | BPF_JSET | BPF_K: if ((r[d] & (ulong)(long)imm) != 0) goto Branch; continue;
                case BPF_JMP | BPF_JSET | BPF_X: if ((r[d] & r[s]) != 0) goto Branch; continue;
                case BPF_JMP | BPF_JSGT | BPF_K: if ((long)r[d] > imm) goto Branch; continue;
                case BPF_JMP | BPF_JSGT | BPF_X: if ((long)r[d] > (long)r[s]) goto Branch; continue;
                case BPF_JMP | BPF_JSGE | BPF_K: if ((long)r[d] >= imm) goto Branch; continue;
                case BPF_JMP | BPF_JSGE | BPF_X: if ((long)r[d] >= (long)r[s]) goto Branch; continue;
                case BPF_JMP | BPF_JSLT | BPF_K: if ((long)r[d] < imm) goto Branch; continue;
                case BPF_JMP | BPF_JSLT | BPF_X: if ((long)r[d] < (long)r[s]) goto Branch; continue;
                case BPF_JMP | BPF_JSLE | BPF_K: if ((long)r[d] <= imm) goto Branch; continue;
                case BPF_JMP | BPF_JSLE | BPF_X: if ((long)r[d] <= (long)r[s]) goto Branch; continue;

                // ---- JMP32: compare the low 32 bits.
                case BPF_JMP32 | BPF_JEQ | BPF_K: if ((uint)r[d] == (uint)imm) goto Branch; continue;
                case BPF_JMP32 | BPF_JEQ | BPF_X: if ((uint)r[d] == (uint)r[s]) goto Branch; continue;
                case BPF_JMP32 | BPF_JNE | BPF_K: if ((uint)r[d] != (uint)imm) goto Branch; continue;
                case BPF_JMP32 | BPF_JNE | BPF_X: if ((uint)r[d] != (uint)r[s]) goto Branch; continue;
                case BPF_JMP32 | BPF_JGT | BPF_K: if ((uint)r[d] > (uint)imm) goto Branch; continue;
                case BPF_JMP32 | BPF_JGT | BPF_X: if ((uint)r[d] > (uint)r[s]) goto Branch; continue;
                case BPF_JMP32 | BPF_JGE | BPF_K: if ((uint)r[d] >= (uint)imm) goto Branch; continue;
                case BPF_JMP32 | BPF_JGE | BPF_X: if ((uint)r[d] >= (uint)r[s]) goto Branch; continue;
                case BPF_JMP32 | BPF_JLT | BPF_K: if ((uint)r[d] < (uint)imm) goto Branch; continue;
                case BPF_JMP32 | BPF_JLT | BPF_X: if ((uint)r[d] < (uint)r[s]) goto Branch; continue;
                case BPF_JMP32 | BPF_JLE | BPF_K: if ((uint)r[d] <= (uint)imm) goto Branch; continue;
                case BPF_JMP32 | BPF_JLE | BPF_X: if ((uint)r[d] <= (uint)r[s]) goto Branch; continue;
                case BPF_JMP32 | BPF_JSET | BPF_K: if (((uint)r[d] & (uint)imm) != 0) goto Branch; continue;
                case BPF_JMP32 | BPF_JSET | BPF_X: if (((uint)r[d] & (uint)r[s]) != 0) goto Branch; continue;
                case BPF_JMP32 | BPF_JSGT | BPF_K: if ((int)r[d] > imm) goto Branch; continue;
                case BPF_JMP32 | BPF_JSGT | BPF_X: if ((int)r[d] > (int)r[s]) goto Branch; continue;
                case BPF_JMP32 | BPF_JSGE | BPF_K: if ((int)r[d] >= imm) goto Branch; continue;
                case BPF_JMP32 | BPF_JSGE | BPF_X: if ((int)r[d] >= (int)r[s]) goto Branch; continue;
                case BPF_JMP32 | BPF_JSLT | BPF_K: if ((int)r[d] < imm) goto Branch; continue;
                case BPF_JMP32 | BPF_JSLT | BPF_X: if ((int)r[d] < (int)r[s]) goto Branch; continue;
                case BPF_JMP32 | BPF_JSLE | BPF_K: if ((int)r[d] <= imm) goto Branch; continue;
                case BPF_JMP32 | BPF_JSLE | BPF_X: if ((int)r[d] <= (int)r[s]) goto Branch; continue;

                // ---- Calls and exit.
                case BPF_JMP | BPF_CALL | BPF_K:
                    if (s == BPF_PSEUDO_CALL)
                    {
                        target = (long)pc + imm;
                        if ((ulong)target >= (ulong)length)
                            return Fail(BpfRunError.JumpOutOfRange, pc - 1, budget - remaining, detail: target);
                        if (depth + 1 >= BpfInterpreterOptions.MaxCallFrames)
                            return Fail(BpfRunError.CallDepthExceeded, pc - 1, budget - remaining, detail: BpfInterpreterOptions.MaxCallFrames);
                        // The callee gets R1-R5 as they are and a fresh frame; R6-R9 come back on exit.
                        ref var frame = ref frames[depth];
                        frame.ReturnPc = pc;
                        frame.Words = words;
                        frame.Length = length;
                        frame.R6 = r[6];
                        frame.R7 = r[7];
                        frame.R8 = r[8];
                        frame.R9 = r[9];
                        frame.R10 = r[10];
                        depth++;
                        r[10] = stackTop - (ulong)(depth * BpfInterpreterOptions.FrameSize);
                        stackLo = r[10] - BpfInterpreterOptions.FrameSize;
                        pc = (int)target;
                        continue;
                    }

                    if (s == BPF_PSEUDO_KFUNC_CALL)
                        return Fail(BpfRunError.InvalidInstruction, pc - 1, budget - remaining, detail: BpfRunResult.InvalidKfunc);
                    target = imm;
                    goto CallHelper;
                case BPF_JMP | BPF_CALL | BPF_X:
                    // callx: the register holds the helper id (the bpf_conformance/uBPF convention).
                    target = (long)r[d];
                    goto CallHelper;
                case BPF_JMP | BPF_EXIT:
                    if (depth == 0)
                        return new BpfRunResult(r[0], budget - remaining, BpfRunError.None, pc - 1, 0, 0, 0);
                    depth--;
                    ref var caller = ref frames[depth];
                    r[6] = caller.R6;
                    r[7] = caller.R7;
                    r[8] = caller.R8;
                    r[9] = caller.R9;
                    r[10] = caller.R10;
                    stackLo = r[10] - BpfInterpreterOptions.FrameSize;
                    pc = caller.ReturnPc;
                    words = caller.Words;
                    length = caller.Length;
                    continue;

                // ---- Loads.
                case LdImm64:
                    if (s != 0)
                        return Fail(BpfRunError.InvalidInstruction, pc - 1, budget - remaining, detail: BpfRunResult.InvalidPseudoLddw);
                    r[d] = (uint)imm | ((ulong)(uint)(int)(words[pc] >> 32) << 32);
                    pc++;
                    continue;
                case BPF_LDX | BPF_MEM | BPF_B: addr = r[s] + (ulong)off; size = 1; if (!Allowed(addr, 1, false, stackLo, stackTop, memLo, memLen)) goto Fault; r[d] = *(byte*)addr; continue;
                case BPF_LDX | BPF_MEM | BPF_H: addr = r[s] + (ulong)off; size = 2; if (!Allowed(addr, 2, false, stackLo, stackTop, memLo, memLen)) goto Fault; r[d] = Unsafe.ReadUnaligned<ushort>((void*)addr); continue;
                case BPF_LDX | BPF_MEM | BPF_W: addr = r[s] + (ulong)off; size = 4; if (!Allowed(addr, 4, false, stackLo, stackTop, memLo, memLen)) goto Fault; r[d] = Unsafe.ReadUnaligned<uint>((void*)addr); continue;
                case BPF_LDX | BPF_MEM | BPF_DW: addr = r[s] + (ulong)off; size = 8; if (!Allowed(addr, 8, false, stackLo, stackTop, memLo, memLen)) goto Fault; r[d] = Unsafe.ReadUnaligned<ulong>((void*)addr); continue;
                case BPF_LDX | BPF_MEMSX | BPF_B: addr = r[s] + (ulong)off; size = 1; if (!Allowed(addr, 1, false, stackLo, stackTop, memLo, memLen)) goto Fault; r[d] = (ulong)*(sbyte*)addr; continue;
                case BPF_LDX | BPF_MEMSX | BPF_H: addr = r[s] + (ulong)off; size = 2; if (!Allowed(addr, 2, false, stackLo, stackTop, memLo, memLen)) goto Fault; r[d] = (ulong)Unsafe.ReadUnaligned<short>((void*)addr); continue;
                case BPF_LDX | BPF_MEMSX | BPF_W: addr = r[s] + (ulong)off; size = 4; if (!Allowed(addr, 4, false, stackLo, stackTop, memLo, memLen)) goto Fault; r[d] = (ulong)Unsafe.ReadUnaligned<int>((void*)addr); continue;

                // ---- Stores (ST: imm, STX: register).
                case BPF_ST | BPF_MEM | BPF_B: addr = r[d] + (ulong)off; size = 1; if (!Allowed(addr, 1, true, stackLo, stackTop, memLo, memLen)) goto WriteFault; *(byte*)addr = (byte)imm; continue;
                case BPF_ST | BPF_MEM | BPF_H: addr = r[d] + (ulong)off; size = 2; if (!Allowed(addr, 2, true, stackLo, stackTop, memLo, memLen)) goto WriteFault; Unsafe.WriteUnaligned((void*)addr, (ushort)imm); continue;
                case BPF_ST | BPF_MEM | BPF_W: addr = r[d] + (ulong)off; size = 4; if (!Allowed(addr, 4, true, stackLo, stackTop, memLo, memLen)) goto WriteFault; Unsafe.WriteUnaligned((void*)addr, (uint)imm); continue;
                case BPF_ST | BPF_MEM | BPF_DW: addr = r[d] + (ulong)off; size = 8; if (!Allowed(addr, 8, true, stackLo, stackTop, memLo, memLen)) goto WriteFault; Unsafe.WriteUnaligned((void*)addr, (ulong)(long)imm); continue;
                case BPF_STX | BPF_MEM | BPF_B: addr = r[d] + (ulong)off; size = 1; if (!Allowed(addr, 1, true, stackLo, stackTop, memLo, memLen)) goto WriteFault; *(byte*)addr = (byte)r[s]; continue;
                case BPF_STX | BPF_MEM | BPF_H: addr = r[d] + (ulong)off; size = 2; if (!Allowed(addr, 2, true, stackLo, stackTop, memLo, memLen)) goto WriteFault; Unsafe.WriteUnaligned((void*)addr, (ushort)r[s]); continue;
                case BPF_STX | BPF_MEM | BPF_W: addr = r[d] + (ulong)off; size = 4; if (!Allowed(addr, 4, true, stackLo, stackTop, memLo, memLen)) goto WriteFault; Unsafe.WriteUnaligned((void*)addr, (uint)r[s]); continue;
                case BPF_STX | BPF_MEM | BPF_DW: addr = r[d] + (ulong)off; size = 8; if (!Allowed(addr, 8, true, stackLo, stackTop, memLo, memLen)) goto WriteFault; Unsafe.WriteUnaligned((void*)addr, r[s]); continue;

                // ---- Atomics.
                case BPF_STX | BPF_ATOMIC | BPF_W:
                    addr = r[d] + (ulong)off;
                    size = 4;
                    if (!Allowed(addr, 4, true, stackLo, stackTop, memLo, memLen))
                        goto WriteFault;
                    if ((addr & 3) != 0)
                        return Fail(BpfRunError.MisalignedAtomic, pc - 1, budget - remaining, addr, 4);
                    BpfAtomics.Execute(addr, wide: false, imm, r, s);
                    continue;
                case BPF_STX | BPF_ATOMIC | BPF_DW:
                    addr = r[d] + (ulong)off;
                    size = 8;
                    if (!Allowed(addr, 8, true, stackLo, stackTop, memLo, memLen))
                        goto WriteFault;
                    if ((addr & 7) != 0)
                        return Fail(BpfRunError.MisalignedAtomic, pc - 1, budget - remaining, addr, 8);
                    BpfAtomics.Execute(addr, wide: true, imm, r, s);
                    continue;

                // ---- Legacy packet loads: big-endian reads from the input memory; out of bounds ends the
                // program with r0 = 0, as Linux's LD_ABS/LD_IND do.
                case BPF_LD | BPF_ABS | BPF_B: case BPF_LD | BPF_IND | BPF_B:
                case BPF_LD | BPF_ABS | BPF_H: case BPF_LD | BPF_IND | BPF_H:
                case BPF_LD | BPF_ABS | BPF_W: case BPF_LD | BPF_IND | BPF_W:
                {
                    var k = Mode((byte)word) == BPF_IND ? unchecked((int)(uint)((ulong)(uint)imm + r[s])) : imm;
                    size = SizeInBytes(Size((byte)word));
                    if (k < 0 || (ulong)k + (ulong)size > memLen)
                        return new BpfRunResult(0, budget - remaining, BpfRunError.None, pc - 1, 0, 0, 0);
                    var at = new ReadOnlySpan<byte>(memory + k, size);
                    r[0] = size switch
                    {
                        1 => at[0],
                        2 => BinaryPrimitives.ReadUInt16BigEndian(at),
                        _ => BinaryPrimitives.ReadUInt32BigEndian(at),
                    };
                    continue;
                }

                default:
                    // Validation admits nothing else: this is the sentinel after the last instruction, or the
                    // second slot of an lddw reached by a jump.
                    if (pc - 1 == length)
                        return Fail(BpfRunError.PastEnd, pc - 2, budget - remaining - 1);
                    return Fail(BpfRunError.InvalidInstruction, pc - 1, budget - remaining, detail: BpfRunResult.InvalidLddwMiddle);
            }

        Branch:
            target = pc + off;
        Jump:
            if ((ulong)target >= (ulong)length)
                return Fail(BpfRunError.JumpOutOfRange, pc - 1, budget - remaining, detail: target);
            pc = (int)target;
            continue;

        CallHelper:
            var helper = _helpers.Find(target);
            if (helper is null)
                return Fail(BpfRunError.UnknownHelper, pc - 1, budget - remaining, detail: target);
            var function = (delegate* managed<ulong, ulong, ulong, ulong, ulong, HelperContext, ulong>)helper.Entry;
            r[0] = function(r[1], r[2], r[3], r[4], r[5], _context);
            if (r[0] == 0 && (helper.Flags & HelperFlags.StopOnZero) != 0)
                return new BpfRunResult(0, budget - remaining, BpfRunError.None, pc - 1, 0, 0, 0);
            if ((helper.Flags & HelperFlags.TailCall) != 0 && _context.PendingTailCall is { } chosen)
            {
                // BPF_TAIL_CALL: continue at the target's first instruction with the same registers and frame;
                // a target this engine cannot run (another engine's program) is a miss.
                _context.PendingTailCall = null;
                if (chosen is BpfInterpreter next)
                {
                    words = next._words;
                    length = next._length;
                    pc = 0;
                }
            }

            continue;

        WriteFault:
            write = true;
        Fault:
            return new BpfRunResult(0, budget - remaining, BpfRunError.OutOfBounds, pc - 1, addr, size, write ? 1 : 0,
                Locate(addr, stackLo, memLo, memLen, depth));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Allowed(ulong address, int size, bool write, ulong stackLo, ulong stackTop, ulong memLo, ulong memLen)
    {
        // The active frames [stackLo, stackTop), then the input memory, then the registered regions.
        var inStack = address - stackLo;
        if (inStack < stackTop - stackLo && stackTop - address >= (ulong)size)
            return true;
        var inMemory = address - memLo;
        if (inMemory < memLen && memLen - inMemory >= (ulong)size)
            return true;
        return _context.Regions.Allows(address, size, write);
    }

    /// <summary>Where a faulting address lies relative to the frame pointer or the input (failure path only).</summary>
    private static string? Locate(ulong address, ulong stackLo, ulong memLo, ulong memLen, int depth)
    {
        const long Near = 64 * 1024;
        var r10 = stackLo + BpfInterpreterOptions.FrameSize;
        var fromFrame = (long)(address - r10);
        if (fromFrame is > -Near and < Near)
            return $"r10{fromFrame:+0;-0} in frame {depth}, whose stack is r10-{BpfInterpreterOptions.FrameSize}..r10";
        var fromInput = (long)(address - memLo);
        if (memLen > 0 && fromInput > -Near && fromInput < (long)memLen + Near)
            return $"input memory{fromInput:+0;-0}, which is {memLen} byte{(memLen == 1 ? "" : "s")} long";
        return address < 4096 ? "a null pointer" : null;
    }

    private static BpfRunResult Fail(BpfRunError error, int index, long executed, ulong address = 0, int size = 0, long detail = 0) =>
        new(0, executed, error, index, address, size, detail);

    private static ulong Div64(ulong dst, ulong src, short offset)
    {
        if (src == 0)
            return 0;
        if (offset == 0)
            return dst / src;
        // sdiv: LONG_MIN / -1 overflows in C# (and traps on x86), RFC 9669 wants LONG_MIN.
        return (long)src == -1 ? 0UL - dst : (ulong)((long)dst / (long)src);
    }

    private static ulong Mod64(ulong dst, ulong src, short offset)
    {
        if (src == 0)
            return dst;
        if (offset == 0)
            return dst % src;
        return (long)src == -1 ? 0 : (ulong)((long)dst % (long)src);
    }

    private static uint Div32(uint dst, uint src, short offset)
    {
        if (src == 0)
            return 0;
        if (offset == 0)
            return dst / src;
        return (int)src == -1 ? 0u - dst : (uint)((int)dst / (int)src);
    }

    private static uint Mod32(uint dst, uint src, short offset)
    {
        if (src == 0)
            return dst;
        if (offset == 0)
            return dst % src;
        return (int)src == -1 ? 0 : (uint)((int)dst % (int)src);
    }

    /// <summary>movsx: sign-extends the low 8/16/32 bits; offset 0 is a plain move.</summary>
    private static ulong SignExtend64(ulong value, short bits) => bits switch
    {
        8 => (ulong)(sbyte)value,
        16 => (ulong)(short)value,
        32 => (ulong)(int)value,
        _ => value,
    };

    /// <summary>le16/le32/le64 on a little-endian host: keep the low bits, zero the rest.</summary>
    private static ulong Truncate(ulong value, int width) => width switch
    {
        16 => (ushort)value,
        32 => (uint)value,
        _ => value,
    };

    /// <summary>be16/be32/be64 and bswap: reverse the low bytes, zero the rest.</summary>
    private static ulong ByteSwap(ulong value, int width) => width switch
    {
        16 => BinaryPrimitives.ReverseEndianness((ushort)value),
        32 => BinaryPrimitives.ReverseEndianness((uint)value),
        _ => BinaryPrimitives.ReverseEndianness(value),
    };
}
