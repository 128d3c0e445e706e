using System.Runtime.CompilerServices;
using System.Text;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>Raised inside the verifier to reject the program with a message in Linux's words.</summary>
internal sealed class VerifierRejection(string message) : Exception(message);

/// <summary>
/// The eBPF verifier: a path-sensitive abstract interpretation of the program as kernel/bpf/verifier.c's
/// do_check does it. Every path is followed from instruction 0 with the abstract state of R0-R10 and the
/// stack; branches whose outcome the bounds decide are followed one way only; a state at a prune point that
/// an already-verified state subsumes ends its path. Use <see cref="Verify"/>.
/// </summary>
/// <remarks>
/// Locals are not zeroed on entry: the per-instruction methods hold several 96-byte register states each, and
/// clearing them on every call cost more than the work (C#'s definite assignment already forbids reading them unset).
/// </remarks>
[SkipLocalsInit]
public sealed partial class Verifier
{
    public const int MaxCallFrames = 8;
    public const int ComplexityLimitInsns = 1_000_000;
    public const int MaxUnprivilegedInsns = 4096;
    public const int MaxVarOff = 1 << 29;
    public const int MaxPacketOff = 0xffff;

    private readonly Instruction[] insns;
    private readonly VerifierOptions opts;
    private readonly ProgramType progType;
    private readonly IReadOnlyList<MapDefinition> maps;
    private readonly StringBuilder log = new();
    private readonly int logLevel;
    private readonly bool privileged;
    private readonly AccessKind[] accesses;
    private readonly bool[] visited;

    // Checkpoints (Linux's explored_states): the fully explored ones of each instruction in a list, newest
    // first, linked through VerifierState.Next; the unfinished ones chained by (instruction, hash) so a loop
    // check looks only at exact candidates. No per-checkpoint allocation.
    private readonly VerifierState?[] explored;
    private readonly int[] exploredCount;
    private readonly Dictionary<ChainKey, VerifierState> inProgress;
    private readonly int[] inProgressCount;
    private readonly bool[] preciseJumps;
    private readonly bool[] decidedJumps;
    private bool newDecidedJump;
    private bool usedImprecision;
    private readonly Stack<PendingBranch> pending;
    private readonly Stack<VerifierState> freeStates;

    /// <summary>
    /// States left over by the last run on this thread (kept in its <see cref="Workspace"/>), reused by the next
    /// (a slab cache, as Linux's allocator gives the verifier recycled memory): a fuzzing campaign or a loader
    /// verifies program after program, and allocating every checkpoint afresh was a fifth of a small program's
    /// time. At most <see cref="MaxSpareStates"/> are kept, each with its first frame only (1.2 KB of registers
    /// plus the stack slots it last used, at most 6.7 KB: under 8 MB per thread in the worst case).
    /// </summary>
    private const int MaxSpareStates = 1024;
    private RegState immScratch = RegState.UnknownScalar;
    private readonly int[] subprogStackDepth;
    private readonly ControlFlow cfg;
    private VerifierState cur = null!;
    private int insnIdx;
    private int prevInsnIdx;
    private int idGen;
    private int processed;
    private int totalStates;
    private int peakStates;
    private int curStates;
    private int maxStatesPerInsn;
    private int jmpsProcessed;
    private int prevJmpsProcessed;
    private int prevInsnProcessed;

    // Log bookkeeping: where the current instruction line starts and how wide it is (for the " ; state" column).
    private int insnLineStart = -1;
    private int insnLineWidth;

    private readonly record struct PendingBranch(VerifierState State, int InsnIdx, int PrevInsnIdx, int LogPos);

    private Verifier(Instruction[] insns, VerifierOptions opts, bool[] preciseJumps, Workspace ws)
    {
        var n = insns.Length;
        this.preciseJumps = preciseJumps;
        freeStates = ws.States;
        pending = ws.Pending;
        inProgress = ws.InProgress;
        cfg = ws.Cfg;
        decidedJumps = ws.DecidedJumps(n);
        inProgressCount = ws.InProgressCount(n);
        this.insns = insns;
        this.opts = opts;
        progType = opts.ProgramType;
        maps = opts.Maps;
        logLevel = opts.LogLevel;
        privileged = opts.Privileged;
        accesses = new AccessKind[n]; // both go out with the result
        visited = new bool[n];
        explored = ws.Explored(n);
        exploredCount = ws.ExploredCount(n);
        subprogStackDepth = ws.SubprogStackDepth(n + 1);
    }

    /// <summary>Verifies <paramref name="program"/> (whole 8-byte slots, lddw as two) as <paramref name="options"/> say.</summary>
    public static VerifierResult Verify(ReadOnlySpan<Instruction> program, VerifierOptions options)
    {
        // Precision: a scalar only has to match for pruning where its value can still matter. Which jumps
        // get decided by a value is only known while exploring, so when a run that pruned on imprecise
        // scalars meets a newly decided jump, it is repeated with that jump's operands precise. A rejection
        // never needs a repeat: it was found on a real path.
        var ws = Workspace.Take();
        var insns = ws.CopyProgram(program);
        var precise = ws.Precise(insns.Length);
        for (var round = 0; ; round++)
        {
            var v = new Verifier(insns, options, precise, ws);
            var result = v.Run();
            if (!result.Accepted || !v.newDecidedJump || !v.usedImprecision)
            {
                ws.Return(insns.Length);
                return result;
            }

            for (var i = 0; i < insns.Length; i++)
                precise[i] |= v.decidedJumps[i] || round >= 16;
        }
    }

    private VerifierResult Run()
    {
        string? error = null;
        try
        {
            if (insns.Length == 0)
                throw new VerifierRejection("empty program");
            if (!privileged && insns.Length > MaxUnprivilegedInsns)
                throw new VerifierRejection($"program of {insns.Length} insns is too large: unprivileged loads are limited to {MaxUnprivilegedInsns} (BPF_MAXINSNS)");
            var cfgError = cfg.Analyze(insns, privileged, progType.ReturnRange is not null, preciseJumps);
            if (cfgError is not null)
                throw new VerifierRejection(cfgError);
            DoCheck();
            CheckMaxStackDepth();
        }
        catch (VerifierRejection e)
        {
            error = e.Message;
            EndInsnLine();
            log.Append(e.Message).Append('\n');
        }
        finally
        {
            ReleaseAllStates();
        }

        // Level 1 keeps only the failing path: on success Linux leaves just the trailer.
        if (error is null && logLevel == 1)
            log.Clear();
        var result = new VerifierResult(error is null, string.Empty, error, processed, maxStatesPerInsn, totalStates, peakStates, 0, accesses, visited);
        if (logLevel > 0 || error is not null)
            log.Append(result.Trailer).Append('\n');
        return result with { Log = logLevel > 0 ? log.ToString() : (error is null ? string.Empty : error + "\n" + result.Trailer + "\n") };
    }

    private static VerifierRejection Reject(string message) => new(message);

    // The accessors below are used several times per instruction from large methods whose inlining budget
    // is spent: without the hint they stay calls.
    private FuncState Frame
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => cur.Frames[cur.CurFrame];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref RegState Reg(int regno) => ref cur.Frames[cur.CurFrame].Regs[regno];

    // ---------------------------------------------------------------- main loop

    private void DoCheck()
    {
        cur = freeStates.Count > 0 ? freeStates.Pop() : new VerifierState();
        var f = cur.Frames[0] ??= new FuncState();
        f.Reset(frameNo: 0, callSite: -1, subprogStart: 0);
        progType.InitRegisters(f.Regs, opts.MemSize);
        cur.CurFrame = 0;
        insnIdx = 0;
        prevInsnIdx = -1;
        var doPrintState = false;
        if (logLevel > 0)
        {
            log.Append("0:");
            StatePrinter.AppendFrame(log, Frame, maps, all: true);
            log.Append('\n');
        }

        while (true)
        {
            if (insnIdx < 0 || insnIdx >= insns.Length)
                throw Reject($"invalid insn idx {insnIdx} insn_cnt {insns.Length}");
            if (++processed > opts.ComplexityLimit)
                throw Reject($"BPF program is too large. Processed {processed} insn");

            if (cfg.PrunePoint[insnIdx] && MayVisitState() && IsStateVisited())
            {
                if (logLevel > 0)
                {
                    EndInsnLine();
                    if (doPrintState && logLevel > 1)
                        log.Append($"\nfrom {prevInsnIdx} to {insnIdx}: safe\n");
                    else
                        log.Append($"{insnIdx}: safe\n");
                }

                if (!PopBranch(ref doPrintState))
                    return;
                continue;
            }

            if (logLevel > 0 && doPrintState)
            {
                EndInsnLine();
                if (logLevel > 1)
                {
                    log.Append($"\nfrom {prevInsnIdx} to {insnIdx}:");
                    StatePrinter.AppendFrame(log, Frame, maps, all: true);
                    log.Append('\n');
                }

                // A resumed path's whole state is "scratched": Linux prints it once more before the instruction.
                log.Append(insnIdx).Append(':');
                StatePrinter.AppendFrame(log, Frame, maps, all: true);
                log.Append('\n');
                doPrintState = false;
            }

            if (logLevel > 0)
            {
                EndInsnLine();
                insnLineStart = log.Length;
                log.Append(insnIdx).Append(": ").Append(InsnText.Format(insns, insnIdx));
                insnLineWidth = log.Length - insnLineStart;
            }

            if (logLevel > 0)
                ClearScratch(); // scratch marks only decide what the log prints
            visited[insnIdx] = true;
            var next = Step(out var pathEnded);
            if (logLevel > 0 && !pathEnded)
                AppendScratchedState();
            if (pathEnded)
            {
                EndInsnLine();
                if (!PopBranch(ref doPrintState))
                    return;
                continue;
            }

            prevInsnIdx = insnIdx;
            insnIdx = next;
        }
    }

    /// <summary>Terminates a pending instruction line.</summary>
    private void EndInsnLine()
    {
        if (insnLineStart >= 0)
        {
            log.Append('\n');
            insnLineStart = -1;
        }
    }

    private void ClearScratch()
    {
        for (var i = 0; i <= cur.CurFrame; i++)
        {
            cur.Frames[i].ScratchedRegs = 0;
            cur.Frames[i].ScratchedSlots = 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Scratch(int regno)
    {
        if (logLevel > 0) // scratch marks only decide what the log prints
            Frame.ScratchedRegs |= 1 << regno;
    }

    private void AppendScratchedState()
    {
        var f = Frame;
        if (f.ScratchedRegs == 0 && f.ScratchedSlots == 0)
            return;
        var sb = new StringBuilder();
        StatePrinter.AppendFrame(sb, f, maps, all: false);
        if (sb.Length == 0 || insnLineStart < 0)
            return;
        // vlog_alignment: the state column starts at a multiple of 8, at least 40.
        var pos = insnLineWidth + 1; // Linux counts the line's newline, which it then overwrites.
        var pad = ((Math.Max(pos + 4, 40) + 7) / 8 * 8) - pos - 1;
        log.Append(' ', pad).Append(';').Append(sb);
    }

    /// <summary>Ends the current path and resumes the most recent pending branch; false when none is left.</summary>
    private bool PopBranch(ref bool doPrintState)
    {
        UpdateBranchCounts(cur.Parent);
        if (pending.Count == 0)
            return false;
        FreeState(cur);
        var p = pending.Pop();
        if (logLevel == 1)
        {
            // Level 1 shows one path: forget what was printed after the branch was queued.
            log.Length = p.LogPos;
            log.Append('\n');
            insnLineStart = -1;
        }

        cur = p.State;
        insnIdx = p.InsnIdx;
        prevInsnIdx = p.PrevInsnIdx;
        doPrintState = true;
        return true;
    }

    private void UpdateBranchCounts(VerifierState? st)
    {
        while (st is not null)
        {
            if (--st.Branches > 0)
                break;
            var parent = st.Parent;
            MarkExplored(st);
            st = parent;
        }
    }

    /// <summary>A copy of <paramref name="src"/> in a recycled state where one is free (Linux frees and reallocates; reuse keeps the copies allocation-free).</summary>
    private VerifierState CopyState(VerifierState src)
    {
        var s = freeStates.Count > 0 ? freeStates.Pop() : new VerifierState();
        s.CopyFrom(src);
        return s;
    }

    /// <summary>Returns a state nothing refers to any more (a finished path, an impossible branch, an evicted checkpoint) for reuse.</summary>
    private void FreeState(VerifierState s)
    {
        s.Parent = null;
        s.Next = null;
        s.Refs = [];
        freeStates.Push(s);
    }

    /// <summary>Hands every state of this run (each lives in exactly one place) to the next run on this thread.</summary>
    private void ReleaseAllStates()
    {
        if (cur is not null)
            FreeState(cur);
        cur = null!;
        while (pending.Count > 0)
            FreeState(pending.Pop().State);
        for (var i = 0; i < insns.Length; i++)
        {
            for (var st = explored[i]; st is not null;)
            {
                var next = st.Next;
                FreeState(st);
                st = next;
            }

            explored[i] = null;
        }

        foreach (var head in inProgress.Values)
        {
            for (var st = head; st is not null;)
            {
                var next = st.Next;
                FreeState(st);
                st = next;
            }
        }

        inProgress.Clear();
        while (freeStates.Count > MaxSpareStates)
            freeStates.Pop();

        // Callee frames are rare and may carry whole stacks: only the first frame is worth keeping.
        foreach (var st in freeStates)
        {
            for (var f = 1; f < st.Frames.Length && st.Frames[f] is not null; f++)
                st.Frames[f] = null!;
        }
    }

    /// <summary>Queues the other outcome of a branch (push_stack) and returns the copy to refine.</summary>
    private void PushBranch(VerifierState copy, int target)
    {
        if (pending.Count >= 8192)
            throw Reject($"The sequence of {pending.Count + 1} jumps is too complex."); // Linux counts the push it refuses
        if (cur.Parent is not null)
            cur.Parent.Branches++;
        pending.Push(new PendingBranch(copy, target, insnIdx, log.Length));
    }

    /// <summary>Executes one instruction on <see cref="cur"/>; returns the next instruction index.</summary>
    private int Step(out bool pathEnded)
    {
        pathEnded = false;
        var insn = insns[insnIdx];
        var code = insn.Opcode;
        switch (Class(code))
        {
            case BPF_ALU:
            case BPF_ALU64:
                CheckAlu(insn);
                return insnIdx + 1;
            case BPF_LDX:
                CheckLoad(insn);
                return insnIdx + 1;
            case BPF_STX:
                if (Mode(code) == BPF_ATOMIC)
                    CheckAtomic(insn);
                else
                    CheckStore(insn);
                return insnIdx + 1;
            case BPF_ST:
                CheckStoreImm(insn);
                return insnIdx + 1;
            case BPF_LD:
                if (code == LdImm64)
                {
                    CheckLdImm64(insn);
                    return insnIdx + 2;
                }

                CheckLdAbs(insn);
                return insnIdx + 1;
            default:
                return CheckJump(insn, out pathEnded);
        }
    }

    // ---------------------------------------------------------------- registers

    /// <summary>check_reg_arg for a source operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckRegRead(int regno)
    {
        if (regno >= FuncState.RegCount || Reg(regno).Type == RegType.NotInit)
            ThrowBadRead(regno);
        Scratch(regno);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadRead(int regno) =>
        throw Reject(regno >= FuncState.RegCount ? $"R{regno} is invalid" : $"R{regno} !read_ok");

    /// <summary>check_reg_arg for a destination operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckRegWrite(int regno)
    {
        if (regno >= FuncState.RegCount || regno == 10)
            ThrowBadWrite(regno);
        Scratch(regno);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadWrite(int regno) =>
        throw Reject(regno == 10 ? "frame pointer is read only" : $"R{regno} is invalid");

    /// <summary>
    /// A known scalar for an instruction's immediate, built in place in one scratch register (no 96-byte
    /// temporary per instruction). Valid until the next call; callers only read it.
    /// </summary>
    private ref readonly RegState ImmReg(ulong value)
    {
        immScratch.SetKnown(value);
        return ref immScratch;
    }

    private void SetReg(int regno, in RegState value)
    {
        Reg(regno) = value;
        Reg(regno).Written = true;
        Scratch(regno);
    }

    private bool IsPointerValue(int regno) => !privileged && Reg(regno).IsPointer;

    private void CheckLdImm64(Instruction insn)
    {
        CheckRegWrite(insn.Dst);
        var hi = (uint)insns[insnIdx + 1].Imm;
        switch (insn.Src)
        {
            case 0:
                SetReg(insn.Dst, RegState.Known(((ulong)hi << 32) | (uint)insn.Imm));
                return;
            case BPF_PSEUDO_MAP_FD:
            case BPF_PSEUDO_MAP_IDX:
            case BPF_PSEUDO_MAP_VALUE:
            case BPF_PSEUDO_MAP_IDX_VALUE:
                {
                    var byFd = insn.Src is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE;
                    var index = insn.Imm;
                    if (byFd && opts.MapFds is not null && !opts.MapFds.TryGetValue(insn.Imm, out index))
                        throw Reject($"fd {insn.Imm} is not pointing to valid bpf_map");
                    if (index < 0 || index >= maps.Count)
                        throw Reject(byFd ? $"fd {insn.Imm} is not pointing to valid bpf_map" : $"map index {insn.Imm} is out of range");
                    var reg = RegState.Pointer(insn.Src is BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_IDX ? RegType.ConstPtrToMap : RegType.PtrToMapValue);
                    reg.MapIndex = index;
                    if (reg.Type == RegType.PtrToMapValue)
                    {
                        var map = maps[index];
                        if (!map.IsArray || map.MaxEntries != 1)
                            throw Reject("direct value access on the map is not supported");
                        if (hi >= (uint)map.ValueSize)
                            throw Reject($"invalid access to map value pointer, value_size={map.ValueSize} off={hi}");
                        reg.Off = (int)hi;
                    }

                    SetReg(insn.Dst, reg);
                    return;
                }

            default:
                throw Reject("unsupported lddw pseudo source " + insn.Src.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private void CheckLdAbs(Instruction insn)
    {
        var mode = Mode(insn.Opcode);
        if (mode is not (BPF_ABS or BPF_IND))
            throw Reject($"invalid BPF_LD mode");
        if (!progType.AllowsLdAbs)
            throw Reject("BPF_LD_[ABS|IND] instructions not allowed for this program type");
        if (insn.Dst != 0 || insn.Offset != 0 || Size(insn.Opcode) == BPF_DW || (mode == BPF_ABS && insn.Src != 0))
            throw Reject("BPF_LD_[ABS|IND] uses reserved fields");
        CheckRegRead(6);
        if (mode == BPF_IND)
        {
            CheckRegRead(insn.Src);
            if (Reg(insn.Src).IsPointer)
                throw Reject($"R{insn.Src} leaks addr into packet");
        }

        if (Reg(6).Type != RegType.PtrToCtx)
            throw Reject("at the time of BPF_LD_ABS|IND R6 != pointer to skb");
        for (var r = 1; r <= 5; r++)
        {
            Reg(r) = RegState.NotInit;
            Scratch(r);
        }

        var result = RegState.UnknownScalar;
        CoerceToSize(ref result, SizeInBytes(Size(insn.Opcode)));
        SetReg(0, result);
    }

    /// <summary>coerce_reg_to_size: keeps the low <paramref name="size"/> bytes (zero-extended).</summary>
    private static void CoerceToSize(ref RegState reg, int size)
    {
        if (size >= 8)
            return;
        var written = reg.Written;
        if (reg == RegState.UnknownScalar)
        {
            // The common case (a load of unknown data): the result depends on nothing but the size.
            reg = CoercedUnknown[size];
            reg.Written = written;
            return;
        }

        CoerceSlow(ref reg, size);
    }

    /// <summary>An unknown scalar coerced to 0..7 bytes, computed once by the general rule.</summary>
    private static readonly RegState[] CoercedUnknown = [.. Enumerable.Range(0, 8).Select(size =>
    {
        var r = RegState.UnknownScalar;
        CoerceSlow(ref r, size);
        return r;
    })];

    private static void CoerceSlow(ref RegState reg, int size)
    {
        var written = reg.Written;
        var v = reg.VarOff.Cast(size);
        var mask = (1UL << (size * 8)) - 1;
        if (reg.UMax <= mask && reg.UMin <= reg.UMax)
        {
            // Bounds already within the size: they survive the truncation.
            var umin = reg.UMin;
            var umax = reg.UMax;
            reg = RegState.UnknownScalar;
            reg.UMin = umin;
            reg.UMax = umax;
        }
        else
        {
            reg = RegState.UnknownScalar;
        }

        reg.VarOff = v;
        reg.SMin = 0;
        reg.SMax = (long)mask;
        reg.UMax = Math.Min(reg.UMax, mask);
        reg.Written = written;
        ScalarBounds.Sync(ref reg);
    }
}
