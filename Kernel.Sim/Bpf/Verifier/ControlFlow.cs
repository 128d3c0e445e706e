using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>
/// The static passes before exploration (check_subprogs, check_cfg, compute_live_registers): subprogram
/// boundaries, jump ranges, reachability, back-edges (refused for unprivileged loads), prune points and the
/// registers live before each instruction. One object serves run after run on a thread (see
/// <c>Verifier.Workspace</c>): its per-instruction arrays may be longer than the program and are only read
/// below its length.
/// </summary>
internal sealed class ControlFlow
{
    public readonly List<int> SubprogStarts = [0];

    // Not readonly: Analyze rents them for each program.
    public bool[] PrunePoint = [];
    public ushort[] LiveIn = [];

    /// <summary>
    /// Registers whose exact scalar value may matter from here on (a static stand-in for Linux's precision
    /// marks): they flow into a conditional jump, a helper or call argument, pointer arithmetic, a store or a
    /// subprogram's return value. Scalars outside this set need not match for one state to cover another.
    /// </summary>
    public ushort[] PreciseIn = [];
    public int[] SubprogOf = [];

    /// <summary>
    /// Direct calls: caller subprog index to callee subprog indexes (entries from <see cref="SubprogStarts"/>'
    /// count on are left over from an earlier program and are never read).
    /// </summary>
    public readonly List<HashSet<int>> CallGraph = [];

    private Instruction[] insns = [];

    /// <summary>Second halves of lddw (not instructions of their own).</summary>
    private bool[] secondHalf = [];

    /// <summary>
    /// Some non-call edge leads to the same or an earlier instruction. Without one, a single pass from the last
    /// instruction to the first sees every successor's final set first, so the backward analyses need no second
    /// pass to confirm (calls are no edge for them: OutSet follows a call to the next instruction only).
    /// </summary>
    private bool hasBackwardEdge;

    /// <summary>Some edge, a call's included, leads to the same or an earlier instruction (the CFG may have a cycle).</summary>
    private bool hasBackwardSuccessor;

    /// <summary>Up to two successors per instruction (2*t and 2*t+1, -1 for none), in the order the DFS takes them.</summary>
    private int[] successors = [];

    // Scratch of the DFS and of liveness with loops, kept for the next program.
    private byte[] dfsState = [];
    private readonly Stack<(int Insn, int NextEdge)> dfsStack = new();
    private ushort[] use = [];
    private ushort[] def = [];

    /// <summary>Runs the passes over <paramref name="program"/> (forgetting the last one's results); returns the error in Linux's words, or null.</summary>
    public string? Analyze(Instruction[] program, bool privileged, bool preciseReturn, bool[] preciseJumps)
    {
        insns = program;
        var n = program.Length;
        ReusedBuffer.Rent(ref secondHalf, n);
        for (var t = 1; t < n; t++)
            secondHalf[t] = program[t - 1].Opcode == LdImm64 && !secondHalf[t - 1];
        ReusedBuffer.Rent(ref successors, 2 * n);
        ReusedBuffer.Rent(ref PrunePoint, n);
        ReusedBuffer.Rent(ref LiveIn, n);
        ReusedBuffer.Rent(ref PreciseIn, n);
        ReusedBuffer.Rent(ref SubprogOf, n);
        SubprogStarts.Clear();
        SubprogStarts.Add(0);
        hasBackwardEdge = hasBackwardSuccessor = false;

        var error = CheckLdImm64() ?? CheckSubprogs() ?? CheckCfg(privileged) ?? ComputeLiveness();
        if (error is null)
            ComputePrecision(preciseReturn, preciseJumps);
        return error;
    }

    private void ComputePrecision(bool preciseReturn, bool[] preciseJumps)
    {
        var n = insns.Length;
        var changed = true;
        while (changed)
        {
            changed = false;
            for (var t = n - 1; t >= 0; t--)
            {
                if (secondHalf[t])
                    continue;
                var after = OutSet(t, PreciseIn);
                var before = PreciseTransfer(t, after, preciseReturn, preciseJumps[t]);
                if (before != PreciseIn[t])
                {
                    PreciseIn[t] = before;
                    changed = true;
                }
            }

            changed &= hasBackwardEdge;
        }
    }

    /// <summary>
    /// The meet step shared by the backward analyses (liveness, precision): the union of <paramref name="inSets"/>
    /// over the successors of <paramref name="t"/>, where a call flows to the next instruction only (what the call
    /// does to registers is the transfer function's business).
    /// </summary>
    private ushort OutSet(int t, ushort[] inSets)
    {
        var i = insns[t];
        if (IsJump(i.Opcode) && Op(i.Opcode) == BPF_CALL)
            return t + 1 < insns.Length ? inSets[t + 1] : (ushort)0;

        var first = successors[2 * t];
        var second = successors[(2 * t) + 1];
        return (ushort)((first >= 0 ? inSets[first] : 0) | (second >= 0 ? inSets[second] : 0));
    }

    private ushort PreciseTransfer(int t, ushort after, bool preciseReturn, bool decidedJump)
    {
        var i = insns[t];
        var code = i.Opcode;
        ushort Bit(int r) => (ushort)(r <= 10 ? 1 << r : 0);
        var dst = Bit(i.Dst);
        var src = Bit(i.Src);
        switch (Class(code))
        {
            case BPF_ALU:
            case BPF_ALU64:
                {
                    var op = Op(code);
                    var needed = (after & dst) != 0;
                    var rest = (ushort)(after & ~dst);
                    if (op == BPF_MOV)
                        return (ushort)(rest | (needed && Source(code) == BPF_X ? src : 0));
                    if (op is BPF_NEG or BPF_END)
                        return (ushort)(rest | (needed ? dst : 0));
                    // Pointer arithmetic needs the exact scalar whatever the result is used for.
                    // (scalar += pointer makes the scalar the offset, so both sides of a register add/sub count).
                    var x = Source(code) == BPF_X;
                    var both = x && op is BPF_ADD or BPF_SUB;
                    return (ushort)(rest | (needed || both ? dst : 0) | (x && (needed || both) ? src : 0));
                }

            case BPF_LDX:
                return (ushort)((after & ~dst) | src);
            case BPF_ST:
                return (ushort)(after | dst);
            case BPF_STX:
                if (Mode(code) == BPF_ATOMIC && (i.Imm & BPF_FETCH) != 0)
                    after = (ushort)(after & ~(i.Imm == BPF_CMPXCHG ? 1 : src));
                return (ushort)(after | dst | src | (i.Imm == BPF_CMPXCHG ? 1 : 0));
            case BPF_LD:
                if (code == LdImm64)
                    return (ushort)(after & ~dst);
                return (ushort)((after & ~0x3f) | Bit(6) | (Mode(code) == BPF_IND ? src : 0));
            default:
                switch (Op(code))
                {
                    case BPF_EXIT:
                        return (ushort)(SubprogOf[t] != 0 || preciseReturn ? 1 : 0);
                    case BPF_CALL:
                        return (ushort)((after & ~0x3f) | 0x3e);
                    case BPF_JA:
                        return after;
                    default:
                        // A jump whose outcome some path decided from the operands' values needs them exact
                        // (mark_chain_precision); an undecided one explored both ways and needs nothing.
                        return decidedJump ? (ushort)(after | dst | (Source(code) == BPF_X ? src : 0)) : after;
                }
        }
    }


    /// <summary>bpf_opcode_in_insntable: the opcodes Linux knows at all.</summary>
    public static bool IsKnownOpcode(byte code)
    {
        var op = Op(code);
        switch (Class(code))
        {
            case BPF_ALU:
                return op switch { BPF_NEG => Source(code) == BPF_K, BPF_END => true, _ => op <= BPF_ARSH };
            case BPF_ALU64:
                return op switch { BPF_NEG or BPF_END => Source(code) == BPF_K, _ => op <= BPF_ARSH };
            case BPF_JMP:
                return op switch { BPF_JA or BPF_EXIT => Source(code) == BPF_K, BPF_CALL => true, _ => op <= BPF_JSLE };
            case BPF_JMP32:
                return op switch { BPF_JA => Source(code) == BPF_K, BPF_CALL or BPF_EXIT => false, _ => op <= BPF_JSLE };
            case BPF_LD:
                return code == LdImm64 || (Mode(code) is BPF_ABS or BPF_IND && Size(code) != BPF_DW);
            case BPF_LDX:
                return Mode(code) == BPF_MEM || (Mode(code) == BPF_MEMSX && Size(code) != BPF_DW);
            case BPF_ST:
                return Mode(code) == BPF_MEM;
            default:
                return Mode(code) == BPF_MEM || (Mode(code) == BPF_ATOMIC && Size(code) is BPF_W or BPF_DW);
        }
    }

    private string? CheckLdImm64()
    {
        for (var i = 0; i < insns.Length; i++)
        {
            var code = insns[i].Opcode;
            if (!IsKnownOpcode(code))
                return $"unknown opcode {code:x2}";
            if (Class(code) == BPF_LDX && insns[i].Imm != 0)
                return "BPF_LDX uses reserved fields";
            if (insns[i].Opcode != LdImm64)
                continue;
            if (i + 1 >= insns.Length || insns[i + 1].Opcode != 0 || insns[i + 1].Regs != 0 || insns[i + 1].Offset != 0)
                return "invalid bpf_ld_imm64 insn";
            i++;
        }

        return null;
    }

    private static bool IsPseudoCall(Instruction i) => i.Opcode == (BPF_JMP | BPF_CALL) && i.Src == BPF_PSEUDO_CALL;

    /// <summary>Jump target of a JMP/JMP32 instruction (gotol takes imm).</summary>
    public static int JumpTarget(Instruction[] insns, int idx)
    {
        var i = insns[idx];
        return i.Opcode == (BPF_JMP32 | BPF_JA) ? idx + i.Imm + 1 : idx + i.Offset + 1;
    }

    private string? CheckSubprogs()
    {
        var n = insns.Length;
        for (var i = 0; i < n; i++)
        {
            if (!IsPseudoCall(insns[i]))
                continue;
            var target = i + insns[i].Imm + 1;
            if (target < 0 || target >= n)
                return $"jump out of range from insn {i} to {target}";
            if (!SubprogStarts.Contains(target))
                SubprogStarts.Add(target);
        }

        SubprogStarts.Sort();
        for (var s = 0; s < SubprogStarts.Count; s++)
        {
            if (s < CallGraph.Count)
                CallGraph[s].Clear();
            else
                CallGraph.Add([]);
            var start = SubprogStarts[s];
            var end = s + 1 < SubprogStarts.Count ? SubprogStarts[s + 1] : n;
            for (var i = start; i < end; i++)
            {
                SubprogOf[i] = s;
                var code = insns[i].Opcode;
                if (IsJump(code) && !secondHalf[i])
                {
                    var op = Op(code);
                    if (op == BPF_CALL)
                    {
                        if (IsPseudoCall(insns[i]))
                            CallGraph[s].Add(SubprogStarts.IndexOf(i + insns[i].Imm + 1));
                    }
                    else if (op != BPF_EXIT)
                    {
                        var target = JumpTarget(insns, i);
                        if (target < start || target >= end)
                            return $"jump out of range from insn {i} to {target}";
                    }
                }
            }

            var last = insns[end - 1];
            if (secondHalf[end - 1] || (last.Opcode != (BPF_JMP | BPF_EXIT) && last.Opcode != (BPF_JMP | BPF_JA) && last.Opcode != (BPF_JMP32 | BPF_JA)))
                return "last insn is not an exit or jmp";
        }

        return null;
    }

    private string? CheckCfg(bool privileged)
    {
        var n = insns.Length;
        // 0 unseen, 1 on the DFS stack (discovered), 2 explored.
        var state = ReusedBuffer.Rent(ref dfsState, n);
        var stack = dfsStack;
        stack.Clear();
        foreach (var start in SubprogStarts)
        {
            PrunePoint[start] = true;
        }

        ComputeSuccessors();
        if (!hasBackwardSuccessor && ReachForward(state))
            return FirstUnreachable(state);
        Array.Clear(state, 0, n);
        state[0] = 1;
        stack.Push((0, 0));
        while (stack.Count > 0)
        {
            var (t, edge) = stack.Pop();
            var w = edge < 2 ? successors[(2 * t) + edge] : -1;
            if (w >= 0)
            {
                stack.Push((t, edge + 1));
                if (secondHalf[w])
                    return $"jump into the middle of ldimm64 insn {w - 1}";
                if (state[w] == 0)
                {
                    state[w] = 1;
                    stack.Push((w, 0));
                }
                else if (state[w] == 1 && !privileged)
                {
                    return $"back-edge from insn {t} to {w}";
                }

                continue;
            }

            state[t] = 2;
        }

        return FirstUnreachable(state);
    }

    private string? FirstUnreachable(byte[] reached)
    {
        for (var i = 0; i < insns.Length; i++)
        {
            if (reached[i] == 0 && !secondHalf[i])
                return $"unreachable insn {i}";
        }

        return null;
    }

    /// <summary>
    /// Reachability when every edge (calls included) leads to a later instruction: one sweep in index order
    /// marks what the DFS would, and no DFS could meet a back-edge (there is no cycle). False when a reached
    /// edge lands in the middle of an lddw: then the DFS runs to report the one Linux reports first.
    /// </summary>
    private bool ReachForward(byte[] reached)
    {
        reached[0] = 1;
        for (var t = 0; t < insns.Length; t++)
        {
            if (reached[t] == 0)
                continue;
            for (var e = 0; e < 2; e++)
            {
                var w = successors[(2 * t) + e];
                if (w < 0)
                    continue;
                if (secondHalf[w])
                    return false;
                reached[w] = 2;
            }
        }

        return true;
    }

    /// <summary>
    /// The successors of every instruction, once (the DFS and both backward analyses walk them repeatedly), and
    /// the prune points they imply. Runs after CheckSubprogs, which proved every target in range.
    /// </summary>
    private void ComputeSuccessors()
    {
        for (var t = 0; t < insns.Length; t++)
        {
            var (first, second) = Successors(t);
            successors[2 * t] = first;
            successors[(2 * t) + 1] = second;
            var isCall = IsJump(insns[t].Opcode) && Op(insns[t].Opcode) == BPF_CALL;
            var backward = (first >= 0 && first <= t) || (second >= 0 && second <= t);
            hasBackwardEdge |= backward && !isCall;
            hasBackwardSuccessor |= backward;
        }
    }

    /// <summary>CFG successors of one instruction, -1 for none (a call's are its callee and the next instruction); marks the prune points they imply.</summary>
    private (int First, int Second) Successors(int t)
    {
        var i = insns[t];
        var code = i.Opcode;
        var width = code == LdImm64 ? 2 : 1;
        if (!IsJump(code))
            return (t + width < insns.Length ? t + width : -1, -1);

        switch (Op(code))
        {
            case BPF_EXIT:
                return (-1, -1);
            case BPF_CALL:
                {
                    var callee = -1;
                    if (IsPseudoCall(i))
                    {
                        PrunePoint[t] = true;
                        callee = t + i.Imm + 1;
                    }

                    var next = -1;
                    if (t + 1 < insns.Length)
                    {
                        PrunePoint[t + 1] = true;
                        next = t + 1;
                    }

                    return callee >= 0 ? (callee, next) : (next, -1);
                }

            case BPF_JA:
                {
                    var target = JumpTarget(insns, t);
                    PrunePoint[target] = true;
                    return (target, -1);
                }

            default:
                {
                    var target = JumpTarget(insns, t);
                    PrunePoint[t + 1] = true;
                    PrunePoint[target] = true;
                    return (t + 1, target != t + 1 ? target : -1);
                }
        }
    }

    private string? ComputeLiveness()
    {
        var n = insns.Length;
        if (!hasBackwardEdge)
        {
            // One backward pass is exact (see hasBackwardEdge): no need to keep use/def for later passes.
            for (var t = n - 1; t >= 0; t--)
            {
                if (secondHalf[t])
                    continue;
                var (u, d) = UseDef(t);
                LiveIn[t] = (ushort)(u | (OutSet(t, LiveIn) & ~d));
            }

            return null;
        }

        var use = ReusedBuffer.Rent(ref this.use, n);
        var def = ReusedBuffer.Rent(ref this.def, n);
        for (var t = 0; t < n; t++)
            (use[t], def[t]) = UseDef(t);
        var changed = true;
        while (changed)
        {
            changed = false;
            for (var t = n - 1; t >= 0; t--)
            {
                if (secondHalf[t])
                    continue;
                var outSet = OutSet(t, LiveIn);
                var inSet = (ushort)(use[t] | (outSet & ~def[t]));
                if (inSet != LiveIn[t])
                {
                    LiveIn[t] = inSet;
                    changed = true;
                }
            }

            changed &= hasBackwardEdge;
        }

        return null;
    }

    private (ushort Use, ushort Def) UseDef(int t)
    {
        var i = insns[t];
        var code = i.Opcode;
        ushort Bit(int r) => (ushort)(r <= 10 ? 1 << r : 0);
        const ushort R0to5 = 0x3f;
        const ushort R1to5 = 0x3e;
        switch (Class(code))
        {
            case BPF_ALU:
            case BPF_ALU64:
                {
                    var op = Op(code);
                    var srcUse = Source(code) == BPF_X && op is not (BPF_NEG or BPF_END) ? Bit(i.Src) : (ushort)0;
                    var dstUse = op == BPF_MOV ? (ushort)0 : Bit(i.Dst);
                    return ((ushort)(srcUse | dstUse), Bit(i.Dst));
                }

            case BPF_LDX:
                return (Bit(i.Src), Bit(i.Dst));
            case BPF_ST:
                return (Bit(i.Dst), 0);
            case BPF_STX:
                if (Mode(code) == BPF_ATOMIC)
                {
                    if (i.Imm == BPF_CMPXCHG)
                        return ((ushort)(Bit(i.Dst) | Bit(i.Src) | 1), 1);
                    return ((ushort)(Bit(i.Dst) | Bit(i.Src)), (i.Imm & BPF_FETCH) != 0 ? Bit(i.Src) : (ushort)0);
                }

                return ((ushort)(Bit(i.Dst) | Bit(i.Src)), 0);
            case BPF_LD:
                if (code == LdImm64)
                    return (0, Bit(i.Dst));
                return ((ushort)(Bit(6) | (Mode(code) == BPF_IND ? Bit(i.Src) : 0)), R0to5);
            default:
                switch (Op(code))
                {
                    case BPF_EXIT:
                        return (1, 0);
                    case BPF_CALL:
                        if (i.Src == 0 && HelperPrototypes.All.TryGetValue(i.Imm, out var proto))
                        {
                            ushort u = 0;
                            for (var a = 0; a < proto.Args.Length; a++)
                                u |= Bit(a + 1);
                            return (u, R0to5);
                        }

                        return (R1to5, R0to5);
                    case BPF_JA:
                        return (0, 0);
                    default:
                        return ((ushort)(Bit(i.Dst) | (Source(code) == BPF_X ? Bit(i.Src) : 0)), 0);
                }
        }
    }
}
