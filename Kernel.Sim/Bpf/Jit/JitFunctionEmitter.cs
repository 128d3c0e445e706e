using System.Buffers.Binary;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Jit;

/// <summary>
/// Emits the IL of one method: its subprogram and, inlined at their call sites, the subprograms it calls (a label per
/// instruction of each body, R0–R5 as <c>ulong</c> locals of the method, R6–R10 per inline level, R10 the top of the
/// level's 512-byte frame in the run's stack), each BPF instruction as the few IL instructions that compute it. Errors the
/// interpreter reports at run time (unknown helper, jump out of range, call depth, ...) become stubs that record
/// the same error and unwind, so both engines end the same way.
/// </summary>
internal sealed class JitFunctionEmitter
{
    private const int RuntimeArg = 0;
    private const int DepthArg = 6;

    private static readonly MethodInfo s_fail = Method(typeof(JitRuntime), nameof(JitRuntime.Fail));
    private static readonly MethodInfo s_stopRun = Method(typeof(JitRuntime), nameof(JitRuntime.StopRun));
    private static readonly MethodInfo s_tailCall = Method(typeof(JitRuntime), nameof(JitRuntime.EnterTailCall));
    private static readonly FieldInfo s_tailCallResult = typeof(JitRuntime).GetField(nameof(JitRuntime.TailCallResult))!;
    private static readonly FieldInfo s_stackTop = typeof(JitRuntime).GetField(nameof(JitRuntime.StackTop))!;
    private static readonly MethodInfo s_loadPacket = Method(typeof(JitOps), nameof(JitOps.LoadPacket));
    private static readonly FieldInfo s_context = typeof(JitRuntime).GetField(nameof(JitRuntime.Context))!;
    private static readonly FieldInfo s_stop = typeof(JitRuntime).GetField(nameof(JitRuntime.Stop))!;
    private static readonly MethodInfo s_mapLookup = Method(typeof(MapHelpers), nameof(MapHelpers.MapLookupElem));
    private static readonly MethodInfo s_asRef64 = AsRef(typeof(long));
    private static readonly MethodInfo s_asRef32 = AsRef(typeof(int));
    private static readonly MethodInfo s_swap16 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), [typeof(ushort)])!;
    private static readonly MethodInfo s_swap32 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), [typeof(uint)])!;
    private static readonly MethodInfo s_swap64 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), [typeof(ulong)])!;

    private readonly JitPlan _plan;
    private readonly JitMethods _methods;
    private readonly ILGenerator _il;

    // R0–R5 are one set of locals for the whole method: an inlined callee receives its arguments in R1–R5 and leaves
    // its result in R0 exactly where the caller expects them (after a call R1–R5 are unreadable, so the callee's
    // values there harm nothing). R6–R10 are per inline level: callee-saved, and R10 is each level's own frame.
    private readonly LocalBuilder[] _shared = new LocalBuilder[6];
    private readonly List<LocalBuilder[]> _levels = [];
    private readonly Label _returnZero;
    private readonly Label _stopZero;
    private readonly List<(Label Label, BpfRunError Error, int Index, long Detail)> _stubs = [];
    private readonly List<int> _inlineChain = [];
    private LocalBuilder? _temp;
    private int _emitted;

    // The body being emitted: its instruction range, a label per instruction (plus one past the end), its inline
    // level (0 = the method's own function) and where its exit goes (null: the method returns).
    private int _start;
    private int _end;
    private Label[] _labels = [];
    private int _level;
    private Label? _exit;

    public JitFunctionEmitter(JitPlan plan, JitMethods methods, int function)
    {
        _plan = plan;
        _methods = methods;
        Function = function;
        _il = methods.Get(function).GetILGenerator();
        for (var i = 0; i < _shared.Length; i++)
            _shared[i] = _il.DeclareLocal(typeof(ulong));
        _returnZero = _il.DefineLabel();
        _stopZero = _il.DefineLabel();
    }

    /// <summary>The subprogram this emitter compiles as a method.</summary>
    public int Function { get; }

    public void Emit()
    {
        var il = _il;
        for (var k = 1; k <= 5; k++)
        {
            il.Emit(OpCodes.Ldarg, (short)k);
            St(k);
        }

        EmitBody(Function, null);
        foreach (var (label, error, index, detail) in _stubs)
        {
            il.MarkLabel(label);
            EmitFail(error, index, detail);
        }

        il.MarkLabel(_stopZero);
        il.Emit(OpCodes.Ldarg, (short)RuntimeArg);
        il.Emit(OpCodes.Call, s_stopRun);
        il.MarkLabel(_returnZero);
        il.Emit(OpCodes.Ldc_I8, 0L);
        il.Emit(OpCodes.Ret);
    }

    /// <summary>
    /// Emits subprogram <paramref name="function"/> at the next inline level (the method's own function at level 0):
    /// its <c>exit</c>s branch to <paramref name="exit"/> with R0 set, or return when it is null.
    /// </summary>
    private void EmitBody(int function, Label? exit)
    {
        var saved = (_start, _end, _labels, _level, _exit);
        _level = exit is null ? 0 : _level + 1;
        _start = _plan.Starts[function];
        _end = _plan.EndOf(function);
        _exit = exit;
        _inlineChain.Add(function);
        _emitted += _end - _start;
        var il = _il;
        // One label per instruction plus one past the end (where falling off the subprogram lands).
        _labels = new Label[_end - _start + 1];
        for (var i = 0; i < _labels.Length; i++)
            _labels[i] = il.DefineLabel();

        if (UsesFrame())
        {
            // R10 = the top of this call depth's frame in the run's stack buffer: real addresses, as in Linux,
            // and the same layout as the interpreter's (frame d below frame d - 1).
            il.Emit(OpCodes.Ldarg, (short)RuntimeArg);
            il.Emit(OpCodes.Ldfld, s_stackTop);
            EmitDepth(0);
            il.Emit(OpCodes.Ldc_I4, BpfInterpreterOptions.FrameSize);
            il.Emit(OpCodes.Mul);
            il.Emit(OpCodes.Conv_U8);
            il.Emit(OpCodes.Sub);
            St(10);
        }

        for (var i = _start; i < _end; i++)
        {
            il.MarkLabel(_labels[i - _start]);
            if (_plan.SecondSlot[i])
            {
                EmitFail(BpfRunError.InvalidInstruction, i, BpfRunResult.InvalidLddwMiddle);
                continue;
            }

            EmitInstruction(_plan.Code[i], i);
        }

        il.MarkLabel(_labels[^1]);
        EmitFail(BpfRunError.PastEnd, _end - 1, 0);
        _inlineChain.RemoveAt(_inlineChain.Count - 1);
        (_start, _end, _labels, _level, _exit) = saved;
    }

    /// <summary>Pushes the call depth of the body being emitted plus <paramref name="extra"/>: the method's depth argument plus the inline level.</summary>
    private void EmitDepth(int extra)
    {
        _il.Emit(OpCodes.Ldarg, (short)DepthArg);
        if (_level + extra != 0)
        {
            _il.Emit(OpCodes.Ldc_I4, _level + extra);
            _il.Emit(OpCodes.Add);
        }
    }

    /// <summary>Leaves the body being emitted with R0 as its result: return from the method, or branch to the inlined call's continuation.</summary>
    private void EmitExit()
    {
        if (_exit is { } exit)
        {
            _il.Emit(OpCodes.Br, exit);
            return;
        }

        Ld(0);
        _il.Emit(OpCodes.Ret);
    }

    private bool UsesFrame()
    {
        for (var i = _start; i < _end; i++)
        {
            if (!_plan.SecondSlot[i] && (_plan.Code[i].Dst == 10 || _plan.Code[i].Src == 10))
                return true;
        }

        return false;
    }

    private void EmitInstruction(Instruction insn, int i)
    {
        switch (Class(insn.Opcode))
        {
            case BPF_ALU:
            case BPF_ALU64:
                EmitAlu(insn);
                break;
            case BPF_JMP:
            case BPF_JMP32:
                EmitJump(insn, i);
                break;
            case BPF_LDX:
                EmitLoad(insn);
                break;
            case BPF_ST:
            case BPF_STX:
                if (Mode(insn.Opcode) == BPF_ATOMIC)
                    EmitAtomic(insn);
                else
                    EmitStore(insn);
                break;
            default:
                EmitLd(insn, i);
                break;
        }
    }

    // ---------------------------------------------------------------- ALU

    private void EmitAlu(Instruction insn)
    {
        var il = _il;
        var is64 = Class(insn.Opcode) == BPF_ALU64;
        var isX = Source(insn.Opcode) == BPF_X;
        int d = insn.Dst, s = insn.Src, imm = insn.Imm;
        var op = Op(insn.Opcode);
        switch (op)
        {
            case BPF_ADD:
            case BPF_SUB:
            case BPF_MUL:
            case BPF_OR:
            case BPF_AND:
            case BPF_XOR:
            {
                var code = op switch
                {
                    BPF_ADD => OpCodes.Add,
                    BPF_SUB => OpCodes.Sub,
                    BPF_MUL => OpCodes.Mul,
                    BPF_OR => OpCodes.Or,
                    BPF_AND => OpCodes.And,
                    _ => OpCodes.Xor,
                };
                Ld(d);
                if (is64)
                {
                    Operand64(isX, s, imm);
                    il.Emit(code);
                }
                else
                {
                    il.Emit(OpCodes.Conv_U4);
                    Operand32(isX, s, imm);
                    il.Emit(code);
                    il.Emit(OpCodes.Conv_U8);
                }

                St(d);
                return;
            }

            case BPF_LSH:
            case BPF_RSH:
            case BPF_ARSH:
            {
                var code = op switch { BPF_LSH => OpCodes.Shl, BPF_RSH => OpCodes.Shr_Un, _ => OpCodes.Shr };
                var mask = is64 ? 63 : 31;
                Ld(d);
                if (!is64)
                    il.Emit(OpCodes.Conv_U4);
                // IL leaves over-wide shifts unspecified; BPF masks the count (RyuJIT folds the and on x64).
                if (isX)
                {
                    Ld(s);
                    il.Emit(OpCodes.Conv_I4);
                    il.Emit(OpCodes.Ldc_I4, mask);
                    il.Emit(OpCodes.And);
                }
                else
                {
                    il.Emit(OpCodes.Ldc_I4, imm & mask);
                }

                il.Emit(code);
                if (!is64)
                    il.Emit(OpCodes.Conv_U8);
                St(d);
                return;
            }

            case BPF_NEG:
                Ld(d);
                if (is64)
                {
                    il.Emit(OpCodes.Neg);
                }
                else
                {
                    il.Emit(OpCodes.Conv_U4);
                    il.Emit(OpCodes.Neg);
                    il.Emit(OpCodes.Conv_U8);
                }

                St(d);
                return;

            case BPF_MOV:
                EmitMov(insn, is64, isX);
                return;

            case BPF_DIV:
            case BPF_MOD:
                if (insn.Offset != 0)
                    EmitSignedDivMod(insn, is64, isX, op == BPF_DIV);
                else
                    EmitDivMod(insn, is64, isX, op == BPF_DIV);
                return;

            default:
                EmitEndian(insn, is64);
                return;
        }
    }

    private void EmitMov(Instruction insn, bool is64, bool isX)
    {
        var il = _il;
        if (!isX)
        {
            if (is64)
            {
                il.Emit(OpCodes.Ldc_I8, (long)insn.Imm);
            }
            else
            {
                il.Emit(OpCodes.Ldc_I4, insn.Imm);
                il.Emit(OpCodes.Conv_U8);
            }

            St(insn.Dst);
            return;
        }

        // movsx: offset 8/16/32 sign-extends the low bits of src; 0 is a plain move.
        Ld(insn.Src);
        switch (insn.Offset)
        {
            case 8: il.Emit(OpCodes.Conv_I1); break;
            case 16: il.Emit(OpCodes.Conv_I2); break;
            case 32: il.Emit(is64 ? OpCodes.Conv_I4 : OpCodes.Conv_U4); break;
            default:
                if (!is64)
                    il.Emit(OpCodes.Conv_U4);
                break;
        }

        if (insn.Offset is 8 or 16 or 32 || !is64)
            il.Emit(is64 ? OpCodes.Conv_I8 : OpCodes.Conv_U8);
        St(insn.Dst);
    }

    /// <summary>Unsigned div/mod: a zero divisor gives 0 (div) or leaves dst (mod, truncated to 32 bits for ALU32), never a trap.</summary>
    private void EmitDivMod(Instruction insn, bool is64, bool isX, bool div)
    {
        var il = _il;
        int d = insn.Dst, s = insn.Src, imm = insn.Imm;
        var code = div ? OpCodes.Div_Un : OpCodes.Rem_Un;
        if (!isX)
        {
            if ((is64 ? (long)imm : (uint)imm) == 0)
            {
                EmitDivideByZero(d, is64, div);
                return;
            }

            Ld(d);
            if (is64)
            {
                il.Emit(OpCodes.Ldc_I8, (long)imm);
                il.Emit(code);
            }
            else
            {
                il.Emit(OpCodes.Conv_U4);
                il.Emit(OpCodes.Ldc_I4, imm);
                il.Emit(code);
                il.Emit(OpCodes.Conv_U8);
            }

            St(d);
            return;
        }

        var nonZero = il.DefineLabel();
        var done = il.DefineLabel();
        Ld(s);
        if (!is64)
            il.Emit(OpCodes.Conv_U4);
        il.Emit(OpCodes.Brtrue, nonZero);
        EmitDivideByZero(d, is64, div);
        il.Emit(OpCodes.Br, done);
        il.MarkLabel(nonZero);
        Ld(d);
        if (is64)
        {
            Ld(s);
            il.Emit(code);
        }
        else
        {
            il.Emit(OpCodes.Conv_U4);
            Ld(s);
            il.Emit(OpCodes.Conv_U4);
            il.Emit(code);
            il.Emit(OpCodes.Conv_U8);
        }

        St(d);
        il.MarkLabel(done);
    }

    private void EmitDivideByZero(int d, bool is64, bool div)
    {
        if (div)
        {
            _il.Emit(OpCodes.Ldc_I8, 0L);
            St(d);
        }
        else if (!is64)
        {
            Ld(d);
            _il.Emit(OpCodes.Conv_U4);
            _il.Emit(OpCodes.Conv_U8);
            St(d);
        }
    }

    private void EmitSignedDivMod(Instruction insn, bool is64, bool isX, bool div)
    {
        Ld(insn.Dst);
        Operand64(isX, insn.Src, insn.Imm);
        var name = (is64, div) switch
        {
            (true, true) => nameof(JitOps.SDiv64),
            (true, false) => nameof(JitOps.SMod64),
            (false, true) => nameof(JitOps.SDiv32),
            _ => nameof(JitOps.SMod32),
        };
        _il.Emit(OpCodes.Call, Method(typeof(JitOps), name));
        St(insn.Dst);
    }

    /// <summary>le16/32/64 truncate on a little-endian host; be16/32/64 and bswap (ALU64) reverse the low bytes.</summary>
    private void EmitEndian(Instruction insn, bool is64)
    {
        var il = _il;
        var swap = is64 || Source(insn.Opcode) == BPF_TO_BE;
        Ld(insn.Dst);
        switch (insn.Imm)
        {
            case 16:
                il.Emit(OpCodes.Conv_U2);
                if (swap)
                    il.Emit(OpCodes.Call, s_swap16);
                il.Emit(OpCodes.Conv_U8);
                break;
            case 32:
                il.Emit(OpCodes.Conv_U4);
                if (swap)
                    il.Emit(OpCodes.Call, s_swap32);
                il.Emit(OpCodes.Conv_U8);
                break;
            default:
                if (swap)
                    il.Emit(OpCodes.Call, s_swap64);
                break;
        }

        St(insn.Dst);
    }

    // ---------------------------------------------------------------- memory

    /// <summary>Pushes base + off as a native pointer: the address the interpreter checks, used raw.</summary>
    private void Address(int baseReg, short off)
    {
        Ld(baseReg);
        if (off != 0)
        {
            _il.Emit(OpCodes.Ldc_I8, (long)off);
            _il.Emit(OpCodes.Add);
        }

        _il.Emit(OpCodes.Conv_U);
    }

    private void EmitLoad(Instruction insn)
    {
        var il = _il;
        var signed = Mode(insn.Opcode) == BPF_MEMSX;
        var size = Size(insn.Opcode);
        Address(insn.Src, insn.Offset);
        if (size != BPF_B)
            il.Emit(OpCodes.Unaligned, (byte)1);
        switch (size)
        {
            case BPF_B: il.Emit(signed ? OpCodes.Ldind_I1 : OpCodes.Ldind_U1); break;
            case BPF_H: il.Emit(signed ? OpCodes.Ldind_I2 : OpCodes.Ldind_U2); break;
            case BPF_W: il.Emit(signed ? OpCodes.Ldind_I4 : OpCodes.Ldind_U4); break;
            default: il.Emit(OpCodes.Ldind_I8); break;
        }

        if (size != BPF_DW)
            il.Emit(signed ? OpCodes.Conv_I8 : OpCodes.Conv_U8);
        St(insn.Dst);
    }

    private void EmitStore(Instruction insn)
    {
        var il = _il;
        var size = Size(insn.Opcode);
        Address(insn.Dst, insn.Offset);
        if (Class(insn.Opcode) == BPF_ST)
        {
            if (size == BPF_DW)
                il.Emit(OpCodes.Ldc_I8, (long)insn.Imm);
            else
                il.Emit(OpCodes.Ldc_I4, insn.Imm);
        }
        else
        {
            Ld(insn.Src);
            if (size != BPF_DW)
                il.Emit(OpCodes.Conv_U4);
        }

        if (size != BPF_B)
            il.Emit(OpCodes.Unaligned, (byte)1);
        il.Emit(size switch
        {
            BPF_B => OpCodes.Stind_I1,
            BPF_H => OpCodes.Stind_I2,
            BPF_W => OpCodes.Stind_I4,
            _ => OpCodes.Stind_I8,
        });
    }

    /// <summary>Atomics through Interlocked on the real address (the verifier proved it aligned and in bounds).</summary>
    private void EmitAtomic(Instruction insn)
    {
        var il = _il;
        var wide = Size(insn.Opcode) == BPF_DW;
        Ld(insn.Dst);
        if (insn.Offset != 0)
        {
            il.Emit(OpCodes.Ldc_I8, (long)insn.Offset);
            il.Emit(OpCodes.Add);
        }

        if (insn.Imm is BPF_ADD or BPF_AND or BPF_OR)
        {
            // No fetch: Interlocked inline on the address as a ref (lock add/and/or), the old value discarded.
            il.Emit(OpCodes.Conv_U);
            il.Emit(OpCodes.Call, wide ? s_asRef64 : s_asRef32);
            Ld(insn.Src);
            if (!wide)
                il.Emit(OpCodes.Conv_I4);
            var op = insn.Imm switch { BPF_ADD => nameof(Interlocked.Add), BPF_AND => nameof(Interlocked.And), _ => nameof(Interlocked.Or) };
            var type = wide ? typeof(long) : typeof(int);
            il.Emit(OpCodes.Call, typeof(Interlocked).GetMethod(op, [type.MakeByRefType(), type])!);
            il.Emit(OpCodes.Pop);
            return;
        }

        Ld(insn.Src);
        if (insn.Imm == BPF_CMPXCHG)
        {
            Ld(0);
            il.Emit(OpCodes.Call, Method(typeof(BpfAtomics), wide ? nameof(BpfAtomics.CmpXchg64) : nameof(BpfAtomics.CmpXchg32)));
            St(0);
            return;
        }

        var name = (insn.Imm & ~BPF_FETCH) switch
        {
            BPF_ADD => wide ? nameof(BpfAtomics.Add64) : nameof(BpfAtomics.Add32),
            BPF_AND => wide ? nameof(BpfAtomics.And64) : nameof(BpfAtomics.And32),
            BPF_OR => wide ? nameof(BpfAtomics.Or64) : nameof(BpfAtomics.Or32),
            BPF_XOR => wide ? nameof(BpfAtomics.Xor64) : nameof(BpfAtomics.Xor32),
            _ => wide ? nameof(BpfAtomics.Xchg64) : nameof(BpfAtomics.Xchg32),
        };
        il.Emit(OpCodes.Call, Method(typeof(BpfAtomics), name));
        if ((insn.Imm & BPF_FETCH) != 0)
            St(insn.Src);
        else
            il.Emit(OpCodes.Pop);
    }

    /// <summary>lddw, and the legacy packet loads LD_ABS/LD_IND.</summary>
    private void EmitLd(Instruction insn, int i)
    {
        var il = _il;
        if (insn.IsLdImm64)
        {
            if (insn.Src != 0)
            {
                // Map and BTF references are the loader's to resolve into plain 64-bit immediates first.
                EmitFail(BpfRunError.InvalidInstruction, i, BpfRunResult.InvalidPseudoLddw);
                return;
            }

            var value = (uint)insn.Imm | ((ulong)(uint)_plan.Code[i + 1].Imm << 32);
            il.Emit(OpCodes.Ldc_I8, (long)value);
            St(insn.Dst);
            il.Emit(OpCodes.Br, _labels[i + 2 - _start]);
            return;
        }

        il.Emit(OpCodes.Ldarg, (short)RuntimeArg);
        if (Mode(insn.Opcode) == BPF_IND)
        {
            Ld(insn.Src);
            il.Emit(OpCodes.Conv_U4);
            il.Emit(OpCodes.Ldc_I4, insn.Imm);
            il.Emit(OpCodes.Add);
        }
        else
        {
            il.Emit(OpCodes.Ldc_I4, insn.Imm);
        }

        il.Emit(OpCodes.Ldc_I4, SizeInBytes(Size(insn.Opcode)));
        il.Emit(OpCodes.Call, s_loadPacket);
        _temp ??= il.DeclareLocal(typeof(ulong));
        il.Emit(OpCodes.Stloc, _temp);
        il.Emit(OpCodes.Ldloc, _temp);
        il.Emit(OpCodes.Ldc_I8, unchecked((long)JitOps.PacketMiss));
        il.Emit(OpCodes.Beq, _stopZero);
        il.Emit(OpCodes.Ldloc, _temp);
        St(0);
    }

    // ---------------------------------------------------------------- jumps and calls

    private void EmitJump(Instruction insn, int i)
    {
        var il = _il;
        var op = Op(insn.Opcode);
        var is64 = Class(insn.Opcode) == BPF_JMP;
        switch (op)
        {
            case BPF_JA:
                il.Emit(OpCodes.Br, Target(i, is64 ? (long)i + 1 + insn.Offset : (long)i + 1 + insn.Imm));
                return;
            case BPF_EXIT:
                EmitExit();
                return;
            case BPF_CALL:
                if (Source(insn.Opcode) == BPF_X)
                    EmitCallx(insn, i);
                else if (insn.Src == BPF_PSEUDO_CALL)
                    EmitLocalCall(insn, i);
                else if (insn.Src == BPF_PSEUDO_KFUNC_CALL)
                    EmitFail(BpfRunError.InvalidInstruction, i, BpfRunResult.InvalidKfunc);
                else if (_plan.Helpers.Find(insn.Imm) is { } helper)
                {
                    if (!TryEmitArrayLookup(helper, i))
                        EmitHelperCall(helper);
                }
                else
                    EmitFail(BpfRunError.UnknownHelper, i, insn.Imm);
                return;
        }

        var target = Target(i, (long)i + 1 + insn.Offset);
        var isX = Source(insn.Opcode) == BPF_X;
        Ld(insn.Dst);
        if (is64)
        {
            Operand64(isX, insn.Src, insn.Imm);
        }
        else
        {
            // Signed and unsigned 32-bit compares both read the low half; the branch opcode picks the meaning.
            il.Emit(OpCodes.Conv_U4);
            Operand32(isX, insn.Src, insn.Imm);
        }

        if (op == BPF_JSET)
        {
            il.Emit(OpCodes.And);
            il.Emit(OpCodes.Brtrue, target);
            return;
        }

        il.Emit(op switch
        {
            BPF_JEQ => OpCodes.Beq,
            BPF_JNE => OpCodes.Bne_Un,
            BPF_JGT => OpCodes.Bgt_Un,
            BPF_JGE => OpCodes.Bge_Un,
            BPF_JLT => OpCodes.Blt_Un,
            BPF_JLE => OpCodes.Ble_Un,
            BPF_JSGT => OpCodes.Bgt,
            BPF_JSGE => OpCodes.Bge,
            BPF_JSLT => OpCodes.Blt,
            _ => OpCodes.Ble,
        }, target);
    }

    /// <summary>The label of jump target <paramref name="target"/>, or a stub failing as the interpreter does.</summary>
    private Label Target(int from, long target)
    {
        if (target >= _start && target < _end)
            return _labels[target - _start];
        if (target < 0 || target >= _plan.Code.Length)
            return Stub(BpfRunError.JumpOutOfRange, from, target);
        throw new BpfJitException(
            $"insn {from}: jump to insn {target} leaves the subprogram at insns {_start}..{_end - 1}; the JIT compiles each subprogram as its own method (the verifier rejects such jumps)");
    }

    private Label Stub(BpfRunError error, int index, long detail)
    {
        var label = _il.DefineLabel();
        _stubs.Add((label, error, index, detail));
        return label;
    }

    /// <summary>
    /// bpf_map_lookup_elem on a BPF_MAP_TYPE_ARRAY known at compile time (R1 set by an lddw of its pointer in the
    /// straight-line code before the call) becomes inline code, as Linux's verifier rewrites it
    /// (array_map_gen_lookup): r0 = index &lt; max_entries ? values + index * elem_size : 0. The verifier proved the
    /// key readable; the array's storage is fixed for its lifetime.
    /// </summary>
    private bool TryEmitArrayLookup(HelperDescriptor helper, int i)
    {
        if (helper.Method != s_mapLookup || _plan.ConstantBefore(i, 1, _start) is not { } pointer ||
            _plan.Maps?.FromPointer(pointer) is not ArrayMap { Type: BpfMapType.Array } array)
            return false;
        var il = _il;
        var miss = il.DefineLabel();
        var done = il.DefineLabel();
        _temp ??= il.DeclareLocal(typeof(ulong));
        Ld(2);
        il.Emit(OpCodes.Conv_U);
        il.Emit(OpCodes.Unaligned, (byte)1);
        il.Emit(OpCodes.Ldind_U4);
        il.Emit(OpCodes.Conv_U8);
        il.Emit(OpCodes.Stloc, _temp);
        il.Emit(OpCodes.Ldloc, _temp);
        il.Emit(OpCodes.Ldc_I8, (long)array.MaxEntries);
        il.Emit(OpCodes.Bge_Un, miss);
        il.Emit(OpCodes.Ldloc, _temp);
        il.Emit(OpCodes.Ldc_I8, (long)array.ElementSize);
        il.Emit(OpCodes.Mul);
        il.Emit(OpCodes.Ldc_I8, (long)array.ValuesAddress);
        il.Emit(OpCodes.Add);
        St(0);
        il.Emit(OpCodes.Br, done);
        il.MarkLabel(miss);
        il.Emit(OpCodes.Ldc_I8, 0L);
        St(0);
        il.MarkLabel(done);
        return true;
    }

    /// <summary>A direct IL call of the helper's static method with R1–R5 and the helper context; R0 takes the result.</summary>
    private void EmitHelperCall(HelperDescriptor helper)
    {
        _plan.CallsHelpers = true;
        for (var k = 1; k <= 5; k++)
            Ld(k);
        _il.Emit(OpCodes.Ldarg, (short)RuntimeArg);
        _il.Emit(OpCodes.Ldfld, s_context);
        _il.Emit(OpCodes.Call, helper.Method);
        St(0);
        if ((helper.Flags & HelperFlags.StopOnZero) != 0)
        {
            Ld(0);
            _il.Emit(OpCodes.Brfalse, _stopZero);
        }

        if ((helper.Flags & HelperFlags.TailCall) != 0)
        {
            // bpf_tail_call chose a target: run it in this method's place and return its r0.
            var miss = _il.DefineLabel();
            _il.Emit(OpCodes.Ldarg, (short)RuntimeArg);
            for (var k = 1; k <= 5; k++)
                Ld(k);
            EmitDepth(0);
            _il.Emit(OpCodes.Call, s_tailCall);
            _il.Emit(OpCodes.Brfalse, miss);
            _il.Emit(OpCodes.Ldarg, (short)RuntimeArg);
            _il.Emit(OpCodes.Ldfld, s_tailCallResult);
            St(0);
            EmitExit();
            _il.MarkLabel(miss);
        }
    }

    /// <summary>
    /// A bpf-to-bpf call. Inlined into this method (R1–R5 and R0 shared, R6–R10 the next level's) when the callee is
    /// not already on the inline chain (the verifier forbids recursion; unverified programs may still recurse) and the
    /// method stays within <see cref="JitPlan.InlineBudget"/>; otherwise a direct IL call of the callee's method, which
    /// has its own frame, R6–R9 staying in this method's locals. Either way the frame limit is checked first.
    /// </summary>
    private void EmitLocalCall(Instruction insn, int i)
    {
        var il = _il;
        var target = (long)i + 1 + insn.Imm;
        if (target < 0 || target >= _plan.Code.Length)
        {
            EmitFail(BpfRunError.JumpOutOfRange, i, target);
            return;
        }

        il.Emit(OpCodes.Ldarg, (short)DepthArg);
        il.Emit(OpCodes.Ldc_I4, BpfInterpreterOptions.MaxCallFrames - 1 - _level);
        il.Emit(OpCodes.Bge, Stub(BpfRunError.CallDepthExceeded, i, BpfInterpreterOptions.MaxCallFrames));
        if (_plan.SecondSlot[target])
        {
            EmitFail(BpfRunError.InvalidInstruction, (int)target, BpfRunResult.InvalidLddwMiddle);
            return;
        }

        var callee = _plan.FunctionAt((int)target);
        if (!_inlineChain.Contains(callee) && _level + 1 < BpfInterpreterOptions.MaxCallFrames &&
            _emitted + _plan.EndOf(callee) - _plan.Starts[callee] <= _plan.InlineBudget)
        {
            var after = il.DefineLabel();
            EmitBody(callee, after);
            il.MarkLabel(after);
            return;
        }

        il.Emit(OpCodes.Ldarg, (short)RuntimeArg);
        for (var k = 1; k <= 5; k++)
            Ld(k);
        EmitDepth(1);
        il.Emit(OpCodes.Call, _methods.Get(callee));
        St(0);
        if (_plan.MayStop)
        {
            il.Emit(OpCodes.Ldarg, (short)RuntimeArg);
            il.Emit(OpCodes.Ldfld, s_stop);
            il.Emit(OpCodes.Brtrue, _returnZero);
        }
    }

    /// <summary>callx: the register holds a helper id (the bpf_conformance/uBPF convention); an IL switch dispatches to the direct calls.</summary>
    private void EmitCallx(Instruction insn, int i)
    {
        var il = _il;
        var helpers = _plan.Helpers.All.ToArray();
        var count = helpers.Length == 0 ? 0 : helpers.Max(h => h.Id) + 1;
        var unknown = il.DefineLabel();
        var done = il.DefineLabel();
        var cases = new Label[count];
        for (var k = 0; k < count; k++)
            cases[k] = unknown;
        foreach (var helper in helpers)
            cases[helper.Id] = il.DefineLabel();
        Ld(insn.Dst);
        il.Emit(OpCodes.Ldc_I8, (long)count);
        il.Emit(OpCodes.Bge_Un, unknown);
        Ld(insn.Dst);
        il.Emit(OpCodes.Conv_I4);
        il.Emit(OpCodes.Switch, cases);
        il.Emit(OpCodes.Br, unknown);
        foreach (var helper in helpers)
        {
            il.MarkLabel(cases[helper.Id]);
            EmitHelperCall(helper);
            il.Emit(OpCodes.Br, done);
        }

        il.MarkLabel(unknown);
        il.Emit(OpCodes.Ldarg, (short)RuntimeArg);
        il.Emit(OpCodes.Ldc_I4, (int)BpfRunError.UnknownHelper);
        il.Emit(OpCodes.Ldc_I4, i);
        Ld(insn.Dst);
        il.Emit(OpCodes.Call, s_fail);
        il.Emit(OpCodes.Br, _returnZero);
        il.MarkLabel(done);
    }

    // ---------------------------------------------------------------- small pieces

    private void EmitFail(BpfRunError error, int index, long detail)
    {
        _il.Emit(OpCodes.Ldarg, (short)RuntimeArg);
        _il.Emit(OpCodes.Ldc_I4, (int)error);
        _il.Emit(OpCodes.Ldc_I4, index);
        _il.Emit(OpCodes.Ldc_I8, detail);
        _il.Emit(OpCodes.Call, s_fail);
        _il.Emit(OpCodes.Br, _returnZero);
    }

    /// <summary>The second operand of a 64-bit operation: src, or imm sign-extended to 64 bits.</summary>
    private void Operand64(bool isX, int s, int imm)
    {
        if (isX)
            Ld(s);
        else
            _il.Emit(OpCodes.Ldc_I8, (long)imm);
    }

    /// <summary>The second operand of a 32-bit operation: the low half of src, or imm.</summary>
    private void Operand32(bool isX, int s, int imm)
    {
        if (isX)
        {
            Ld(s);
            _il.Emit(OpCodes.Conv_U4);
        }
        else
        {
            _il.Emit(OpCodes.Ldc_I4, imm);
        }
    }

    private void Ld(int reg) => _il.Emit(OpCodes.Ldloc, Register(reg));

    private void St(int reg) => _il.Emit(OpCodes.Stloc, Register(reg));

    private LocalBuilder Register(int reg)
    {
        if (reg <= 5)
            return _shared[reg];
        while (_levels.Count <= _level)
        {
            var set = new LocalBuilder[5];
            for (var k = 0; k < set.Length; k++)
                set[k] = _il.DeclareLocal(typeof(ulong));
            _levels.Add(set);
        }

        return _levels[_level][reg - 6];
    }

    /// <summary>Unsafe.AsRef&lt;T&gt;(void*): a native address as a managed ref, for Interlocked.</summary>
    private static MethodInfo AsRef(Type type) =>
        typeof(Unsafe).GetMethods().Single(m => m.Name == nameof(Unsafe.AsRef) && m.GetParameters()[0].ParameterType == typeof(void*)).MakeGenericMethod(type);

    private static MethodInfo Method(Type type, string name) =>
        type.GetMethod(name, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
        ?? throw new InvalidOperationException($"{type.Name}.{name} is missing");
}
