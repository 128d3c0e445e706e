using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>
/// The static passes before exploration (check_subprogs, check_cfg, compute_live_registers): subprogram
/// boundaries, jump ranges, reachability, back-edges (refused for unprivileged loads), prune points and the
/// registers live before each instruction.
/// </summary>
internal sealed class ControlFlow
{
    public readonly List<int> SubprogStarts = [0];
    public readonly bool[] PrunePoint;
    public readonly ushort[] LiveIn;
    public readonly int[] SubprogOf;

    /// <summary>Direct calls: caller subprog index to callee subprog indexes.</summary>
    public readonly List<HashSet<int>> CallGraph = [];

    private readonly Instruction[] insns;

    private ControlFlow(Instruction[] insns)
    {
        this.insns = insns;
        PrunePoint = new bool[insns.Length];
        LiveIn = new ushort[insns.Length];
        SubprogOf = new int[insns.Length];
    }

    /// <summary>Runs the passes; returns the error in Linux's words, or null.</summary>
    public static string? Analyze(Instruction[] insns, bool privileged, out ControlFlow cfg)
    {
        cfg = new ControlFlow(insns);
        return cfg.CheckLdImm64() ?? cfg.CheckSubprogs() ?? cfg.CheckCfg(privileged) ?? cfg.ComputeLiveness();
    }

    public static bool IsSecondHalf(Instruction[] insns, int idx) => idx > 0 && insns[idx - 1].Opcode == LdImm64 && !IsSecondHalf(insns, idx - 1);

    private string? CheckLdImm64()
    {
        for (var i = 0; i < insns.Length; i++)
        {
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
            CallGraph.Add([]);
            var start = SubprogStarts[s];
            var end = s + 1 < SubprogStarts.Count ? SubprogStarts[s + 1] : n;
            for (var i = start; i < end; i++)
            {
                SubprogOf[i] = s;
                var code = insns[i].Opcode;
                if (IsJump(code) && !IsSecondHalf(insns, i))
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
            if (IsSecondHalf(insns, end - 1) || (last.Opcode != (BPF_JMP | BPF_EXIT) && last.Opcode != (BPF_JMP | BPF_JA) && last.Opcode != (BPF_JMP32 | BPF_JA)))
                return "last insn is not an exit or jmp";
        }

        return null;
    }

    private string? CheckCfg(bool privileged)
    {
        var n = insns.Length;
        // 0 unseen, 1 on the DFS stack (discovered), 2 explored.
        var state = new byte[n];
        var stack = new Stack<(int Insn, int NextEdge)>();
        foreach (var start in SubprogStarts)
        {
            PrunePoint[start] = true;
        }

        state[0] = 1;
        stack.Push((0, 0));
        var succ = new List<int>(2);
        while (stack.Count > 0)
        {
            var (t, edge) = stack.Pop();
            Successors(t, succ);
            if (edge < succ.Count)
            {
                stack.Push((t, edge + 1));
                var w = succ[edge];
                if (IsSecondHalf(insns, w))
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

        for (var i = 0; i < n; i++)
        {
            if (state[i] == 0 && !IsSecondHalf(insns, i))
                return $"unreachable insn {i}";
        }

        return null;
    }

    /// <summary>CFG successors of one instruction (a call's successors are its callee and the next instruction).</summary>
    private void Successors(int t, List<int> succ)
    {
        succ.Clear();
        var i = insns[t];
        var code = i.Opcode;
        var width = code == LdImm64 ? 2 : 1;
        if (!IsJump(code))
        {
            if (t + width < insns.Length)
                succ.Add(t + width);
            return;
        }

        switch (Op(code))
        {
            case BPF_EXIT:
                return;
            case BPF_CALL:
                if (IsPseudoCall(i))
                {
                    PrunePoint[t] = true;
                    succ.Add(t + i.Imm + 1);
                }

                if (t + 1 < insns.Length)
                {
                    PrunePoint[t + 1] = true;
                    succ.Add(t + 1);
                }

                return;
            case BPF_JA:
                {
                    var target = JumpTarget(insns, t);
                    PrunePoint[target] = true;
                    succ.Add(target);
                    return;
                }

            default:
                {
                    var target = JumpTarget(insns, t);
                    PrunePoint[t + 1] = true;
                    PrunePoint[target] = true;
                    succ.Add(t + 1);
                    if (target != t + 1)
                        succ.Add(target);
                    return;
                }
        }
    }

    private string? ComputeLiveness()
    {
        var n = insns.Length;
        var use = new ushort[n];
        var def = new ushort[n];
        for (var t = 0; t < n; t++)
            (use[t], def[t]) = UseDef(t);
        var succ = new List<int>(2);
        var changed = true;
        while (changed)
        {
            changed = false;
            for (var t = n - 1; t >= 0; t--)
            {
                if (IsSecondHalf(insns, t))
                    continue;
                var i = insns[t];
                ushort outSet = 0;
                if (IsJump(i.Opcode) && Op(i.Opcode) == BPF_CALL)
                {
                    if (t + 1 < n)
                        outSet = LiveIn[t + 1];
                }
                else
                {
                    Successors(t, succ);
                    foreach (var s in succ)
                        outSet |= LiveIn[s];
                }

                var inSet = (ushort)(use[t] | (outSet & ~def[t]));
                if (inSet != LiveIn[t])
                {
                    LiveIn[t] = inSet;
                    changed = true;
                }
            }
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
