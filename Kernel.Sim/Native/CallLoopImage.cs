using System.Runtime.InteropServices;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Kernel.Sim.Native;

/// <summary>
/// One page of generated x86-64 code: five target functions, the two retpoline thunks, a static_call trampoline
/// and one call loop per <see cref="NativeMechanism"/>. Every loop has the same shape,
/// <c>long loop(long n, ulong* table, long x)</c>: it loads the next target from a table, makes the call under
/// test, and feeds the callee's result into the next call (a dependent chain: <c>x = target_k(x) = x + k + 1</c>),
/// so the time per iteration is the latency of one call and return, not its throughput.
/// </summary>
/// <remarks>
/// Layout (offsets in the page): targets at 64-byte strides from 0, thunks and trampoline from 0x140, loops at
/// 0x200 + 0x100 × mechanism. Each piece is assembled separately by Iced at its final address, so displacements
/// between pieces are plain <c>rel32</c>s. Loop tops are 16-byte aligned, which puts the inline static_call
/// (the first instruction of its loop) and the trampoline's <c>jmp</c> inside one aligned 8-byte word, the
/// precondition of <see cref="PatchableBranch"/>.
/// </remarks>
internal sealed unsafe class CallLoopImage : IDisposable
{
    /// <summary>Targets the patterns use (0..3); target 4 is the guard-miss candidate that is never called.</summary>
    public const int PatternTargets = 4;

    /// <summary>Target functions in the image.</summary>
    public const int TargetCount = 5;

    /// <summary>Slots of a target table, walked cyclically (a power of two: the loop masks the index).</summary>
    public const int TableLength = 1 << 14;

    private const int DecoyTarget = 4;
    private const int TargetStride = 0x40;
    private const int RetpolineThunkOffset = 0x140;
    private const int LfenceThunkOffset = 0x180;
    private const int TrampolineOffset = 0x1C0;
    private const int LoopOffset = 0x200;
    private const int LoopStride = 0x100;
    private const int ImageSize = 0x1000;

    private readonly ExecutableMemory _memory;
    private readonly long* _counters;
    private readonly ulong[] _loopTops = new ulong[NativeMechanisms.All.Count];
    private bool _disposed;

    /// <summary>Generates the image. <paramref name="countCalls"/> makes each target <c>lock inc</c> its own counter (tests); <paramref name="patchable"/> keeps the writable alias for live patching.</summary>
    public CallLoopImage(bool countCalls, bool patchable)
    {
        _memory = ExecutableMemory.Create(ImageSize, patchable);
        try
        {
            if (countCalls)
                _counters = (long*)NativeMemory.AlignedAlloc(TargetCount * sizeof(long), 64);
            ResetCounters();
            for (var k = 0; k < TargetCount; k++)
                _memory.Emit(k * TargetStride, a => EmitTarget(a, k));
            _memory.Emit(RetpolineThunkOffset, EmitRetpolineThunk);
            _memory.Emit(LfenceThunkOffset, a =>
            {
                a.lfence();
                a.jmp(rax);
            });
            _memory.Emit(TrampolineOffset, a => a.jmp(TargetAddress(0)));
            foreach (var mechanism in NativeMechanisms.All)
                EmitLoop(mechanism);
            _memory.Seal(keepWritableAlias: patchable);
            if (patchable)
            {
                StaticCallSite = new PatchableBranch(_memory, LoopSite(NativeMechanism.StaticCall), 0xE8);
                TrampolineSite = new PatchableBranch(_memory, TrampolineAddress, 0xE9);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The executable memory (for W^X checks).</summary>
    public ExecutableMemory Memory => _memory;

    /// <summary>The inline static_call's <c>call rel32</c>, or null when the image is not patchable.</summary>
    public PatchableBranch? StaticCallSite { get; }

    /// <summary>The static_call trampoline's <c>jmp rel32</c>, or null when the image is not patchable.</summary>
    public PatchableBranch? TrampolineSite { get; }

    /// <summary>Address of <c>__x86_indirect_thunk_rax</c>.</summary>
    public ulong RetpolineThunkAddress => (ulong)_memory.Executable + RetpolineThunkOffset;

    /// <summary>Address of the <c>lfence; jmp rax</c> thunk.</summary>
    public ulong LfenceThunkAddress => (ulong)_memory.Executable + LfenceThunkOffset;

    /// <summary>Address of the static_call trampoline.</summary>
    public ulong TrampolineAddress => (ulong)_memory.Executable + TrampolineOffset;

    /// <summary>Address of the loop function of <paramref name="mechanism"/>.</summary>
    public ulong LoopAddress(NativeMechanism mechanism) => (ulong)_memory.Executable + LoopOffset + (ulong)mechanism * LoopStride;

    /// <summary>Address of target <paramref name="k"/> (it returns its argument + k + 1).</summary>
    public ulong TargetAddress(int k) => (ulong)_memory.Executable + (ulong)(k * TargetStride);

    /// <summary>Calls made to target <paramref name="k"/> since the last reset (counting images only).</summary>
    public long Count(int k) => _counters == null ? throw new InvalidOperationException("this image does not count calls") : Volatile.Read(ref _counters[k]);

    public void ResetCounters()
    {
        if (_counters != null)
            new Span<long>(_counters, TargetCount).Clear();
    }

    /// <summary>The loop function of <paramref name="mechanism"/>.</summary>
    public delegate* unmanaged<long, ulong*, long, long> Loop(NativeMechanism mechanism) =>
        (delegate* unmanaged<long, ulong*, long, long>)LoopAddress(mechanism);

    /// <summary>Runs <paramref name="calls"/> iterations of <paramref name="mechanism"/>'s loop over <paramref name="table"/> starting the chain at <paramref name="x"/>.</summary>
    public long Run(NativeMechanism mechanism, TargetTable table, long calls, long x)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(calls);
        return Loop(mechanism)(calls, table.Slots, x);
    }

    /// <summary>Whether the loop calls the target in the table (true) or a target bound into the code (false).</summary>
    public static bool FollowsTable(NativeMechanism mechanism) =>
        mechanism is not (NativeMechanism.Direct or NativeMechanism.StaticCall or NativeMechanism.StaticCallTrampoline);

    /// <summary>Address of the first instruction of a loop's body (the inline call site of static-call).</summary>
    private ulong LoopSite(NativeMechanism mechanism) => _loopTops[(int)mechanism];


    private void EmitTarget(Assembler a, int k)
    {
        if (_counters != null)
        {
            a.mov(r11, (ulong)(_counters + k));
            a.@lock.inc(__qword_ptr[r11]);
        }

        a.lea(rax, __[rdi + (k + 1)]);
        a.ret();
    }

    // Linux's __x86_indirect_thunk_rax (arch/x86/lib/retpoline.S): the call pushes a return address that the
    // RSB predicts to the pause/lfence trap, then the real target overwrites it and ret goes there.
    private static void EmitRetpolineThunk(Assembler a)
    {
        var doRop = a.CreateLabel("do_rop");
        var trap = a.CreateLabel("spec_trap");
        a.call(doRop);
        a.Label(ref trap);
        a.pause();
        a.lfence();
        a.jmp(trap);
        a.Label(ref doRop);
        a.mov(__qword_ptr[rsp], rax);
        a.ret();
    }

    private void EmitLoop(NativeMechanism mechanism)
    {
        var offset = LoopOffset + (int)mechanism * LoopStride;
        var rip = (ulong)_memory.Executable + (ulong)offset;
        // Two passes: the first finds where the loop top lands, the second pads the prologue to align it.
        var (_, first) = CodeBuffer.Assemble(BuildLoop(mechanism, padding: 0, out var top), rip);
        var padding = (int)((16 - (first.GetLabelRIP(top) & 15)) & 15);
        var (bytes, result) = CodeBuffer.Assemble(BuildLoop(mechanism, padding, out top), rip);
        if (bytes.Length > LoopStride)
            throw new InvalidOperationException($"{mechanism.Name()} loop is {bytes.Length} bytes, more than its {LoopStride}-byte slot");
        _loopTops[(int)mechanism] = result.GetLabelRIP(top);
        _memory.Write(offset, bytes);
    }

    private Assembler BuildLoop(NativeMechanism mechanism, int padding, out Label top)
    {
        var a = new Assembler(64);
        top = a.CreateLabel("loop");
        var done = a.CreateLabel("done");
        var miss = a.CreateLabel("miss");
        var afterSite = a.CreateLabel("after_site");
        var guarded = mechanism is NativeMechanism.GuardHit or NativeMechanism.GuardMiss;
        var candidate = TargetAddress(mechanism == NativeMechanism.GuardMiss ? DecoyTarget : 0);

        // System V: rdi = n, rsi = table, rdx = x. r12 counts down, r13 is the table, r14 the slot index,
        // r15 the guard candidate (user addresses do not fit the kernel's sign-extended `cmp $imm32, %rax`).
        a.push(rbx);
        a.push(r12);
        a.push(r13);
        a.push(r14);
        a.push(r15);
        a.mov(r12, rdi);
        a.mov(r13, rsi);
        a.mov(rdi, rdx);
        a.xor(r14d, r14d);
        a.mov(r15, candidate);
        a.mov(rax, __qword_ptr[r13]);
        a.test(r12, r12);
        a.jz(done);
        if (padding > 0)
            a.nop(padding);
        a.Label(ref top);
        switch (mechanism)
        {
            case NativeMechanism.Direct:
            case NativeMechanism.StaticCall:
                a.call(TargetAddress(0));
                break;
            case NativeMechanism.Indirect:
                a.call(rax);
                break;
            case NativeMechanism.Retpoline:
                a.call(RetpolineThunkAddress);
                break;
            case NativeMechanism.RetpolineLfence:
                a.call(LfenceThunkAddress);
                break;
            case NativeMechanism.GuardHit:
            case NativeMechanism.GuardMiss:
                // INDIRECT_CALL_1(f, f1, x): likely(f == f1) ? f1(x) : f(x), the fallback through the retpoline.
                a.cmp(rax, r15);
                a.jne(miss);
                a.call(candidate);
                break;
            case NativeMechanism.StaticCallTrampoline:
                a.call(TrampolineAddress);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, null);
        }

        a.Label(ref afterSite);
        a.mov(rdi, rax);
        a.inc(r14);
        a.and(r14, TableLength - 1);
        a.mov(rax, __qword_ptr[r13 + r14 * 8]);
        a.dec(r12);
        a.jnz(top);
        a.Label(ref done);
        a.mov(rax, rdi);
        a.pop(r15);
        a.pop(r14);
        a.pop(r13);
        a.pop(r12);
        a.pop(rbx);
        a.ret();
        if (guarded)
        {
            // Out of line, as the compiler places the unlikely side of likely().
            a.Label(ref miss);
            a.call(RetpolineThunkAddress);
            a.jmp(afterSite);
        }

        return a;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _memory.Dispose();
        if (_counters != null)
            NativeMemory.AlignedFree(_counters);
    }
}
