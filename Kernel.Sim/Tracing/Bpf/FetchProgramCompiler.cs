using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Tracing.ProbeEvents;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>Where a fetch program builds its record: offsets inside the per-CPU map value.</summary>
/// <param name="FixedSize">Header plus argument fields (the entry's fixed part).</param>
/// <param name="End">Fixed part plus the classic path's 1024-byte dynamic area: strings never pass it.</param>
/// <param name="TailOffset">Where the host leaves the return address and the six saved entry arguments.</param>
/// <param name="ValueSize">The map value: the record, 512 bytes of slack the verifier sees bounded accesses reach, the tail.</param>
public readonly record struct FetchRecordLayout(int FixedSize, int End, int TailOffset, int ValueSize)
{
    /// <summary>The classic path's dynamic area (ProbeEvent.Record's stackalloc beyond the fixed part).</summary>
    public const int DynamicCapacity = 1024;

    /// <summary>Bytes past <see cref="End"/> the verifier may see a bounded string access reach.</summary>
    public const int Slack = 512;

    /// <summary>Return address plus six entry arguments.</summary>
    public const int TailSize = 7 * 8;

    public static FetchRecordLayout For(int fixedSize)
    {
        var end = fixedSize + DynamicCapacity;
        var tail = (end + Slack + 7) & ~7;
        return new FetchRecordLayout(fixedSize, end, tail, tail + TailSize);
    }
}

/// <summary>
/// Compiles a probe event's fetch arguments (and optionally its filter) into ONE BPF program of type kprobe: R1 is the
/// probe's pt_regs; the program looks up its per-CPU record buffer (a PERCPU_ARRAY value), writes the entry exactly as
/// the classic fetch chain does (header, fields, __data_loc strings in the dynamic area, zeroes where a fetch
/// faulted), dereferences with bpf_probe_read_kernel (113), strings with bpf_probe_read_kernel_str (115), $comm through
/// bpf_get_current_task (35), and returns the record's length (0: the filter dropped it).
/// </summary>
public static class FetchProgramCompiler
{
    // Register plan: R6 ctx (pt_regs), R7 the record, R8 the value being fetched, R9 the dynamic offset.
    private const byte Ctx = 6, Rec = 7, Val = 8, Dyn = 9;
    private const int TmpSlot = -16, KeySlot = -4;

    /// <summary>Longest immediate string the generator emits inline.</summary>
    public const int MaxImmediateString = 255;

    /// <summary>Generates the program; <paramref name="mapFd"/> is the record buffer's fd.</summary>
    public static Instruction[] Compile(ProbeEvent probeEvent, int mapFd, FetchRecordLayout layout, EventFilter? filter = null)
    {
        ArgumentNullException.ThrowIfNull(probeEvent);
        var b = new BpfCodeBuilder();
        var drop = b.NewLabel();

        // r0 = bpf_map_lookup_elem(&buffer, &(u32){0})
        b.MovReg(Ctx, 1);
        b.StoreImm(BPF_W, 10, KeySlot, 0);
        b.MovReg(2, 10);
        b.Add(2, KeySlot);
        b.LoadImm64(1, 0, BPF_PSEUDO_MAP_FD, mapFd);
        b.Call(1);
        b.JumpIf(BPF_JEQ, 0, 0, drop);
        b.MovReg(Rec, 0);

        // The entry starts zeroed (a faulted field stays 0, as in the classic path).
        for (var off = 0; off < layout.FixedSize;)
        {
            var size = layout.FixedSize - off >= 8 ? 8 : layout.FixedSize - off >= 4 ? 4 : layout.FixedSize - off >= 2 ? 2 : 1;
            b.StoreImm(SizeCode(size), Rec, off, 0);
            off += size;
        }

        b.StoreImm(BPF_W, Rec, 0, probeEvent.Id);
        b.LoadImm64(1, probeEvent.Address);
        b.Store(BPF_DW, Rec, 1, 8);
        if (probeEvent.IsReturn)
        {
            b.Load(BPF_DW, 1, Rec, layout.TailOffset);
            b.Store(BPF_DW, Rec, 1, 16);
        }

        b.Mov(Dyn, layout.FixedSize);
        foreach (var argument in probeEvent.Arguments)
            EmitArgument(b, probeEvent, argument, layout, drop);

        if (filter is not null)
        {
            var pass = b.NewLabel();
            FilterCompiler.Emit(b, filter, Rec, layout, pass, drop);
            b.Bind(pass);
        }

        b.MovReg(0, Dyn);
        b.Exit();
        b.Bind(drop);
        b.Mov(0, 0);
        b.Exit();
        return b.Build();
    }

    internal static byte SizeCode(int size) => size switch
    {
        1 => BPF_B,
        2 => BPF_H,
        4 => BPF_W,
        8 => BPF_DW,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "not a load size"),
    };

    private static void EmitArgument(BpfCodeBuilder b, ProbeEvent probeEvent, ProbeArgument argument, FetchRecordLayout layout, BpfLabel drop)
    {
        var faulted = b.NewLabel();
        var done = b.NewLabel();
        foreach (var step in argument.Steps)
            EmitStep(b, probeEvent, step, layout, faulted);

        var field = argument.Offset;
        switch (argument.Store)
        {
            case StoreRaw raw:
                b.MovReg(1, Val);
                EmitBitfield(b, 1, raw.Bitfield);
                b.Store(SizeCode(raw.Size), Rec, 1, field);
                break;
            case StoreMemory memory:
                for (var i = 0; i < memory.Count; i++)
                {
                    // One read per element: a fault keeps the elements already read, as the classic store does.
                    b.MovReg(1, Rec);
                    b.Add(1, field + (i * memory.Size));
                    b.Mov(2, memory.Size);
                    b.MovReg(3, Val);
                    b.Add(3, memory.Offset + (i * memory.Size));
                    b.Call(113);
                    b.JumpIf(BPF_JNE, 0, 0, faulted);
                    if (memory.Bitfield is { } bits)
                    {
                        b.Load(SizeCode(memory.Size), 1, Rec, field + (i * memory.Size));
                        EmitBitfield(b, 1, bits);
                        b.Store(SizeCode(memory.Size), Rec, 1, field + (i * memory.Size));
                    }
                }

                break;
            case StoreString text:
                EmitString(b, text.Offset, field, layout, faulted, drop);
                break;
            case StoreImmediateString immediate:
                EmitImmediateString(b, immediate.Text, field, layout, faulted, drop);
                break;
            default:
                throw new NotSupportedException($"no BPF lowering for {argument.Store.GetType().Name}");
        }

        b.Jump(done);
        b.Bind(faulted);
        if (argument.Type.Kind == FetchKind.String)
            b.Store(BPF_W, Rec, Dyn, field); // __data_loc with length 0: printed as (fault)
        b.Bind(done);
    }

    private static void EmitStep(BpfCodeBuilder b, ProbeEvent probeEvent, FetchStep step, FetchRecordLayout layout, BpfLabel faulted)
    {
        switch (step)
        {
            case FetchRegister register:
                b.Load(BPF_DW, Val, Ctx, register.RegisterOffset);
                break;
            case FetchStackPointer:
                b.Load(BPF_DW, Val, Ctx, PtRegsSp);
                break;
            case FetchReturnValue:
                b.Load(BPF_DW, Val, Ctx, PtRegsAx);
                break;
            case FetchStackEntry entry:
                b.Load(BPF_DW, 3, Ctx, PtRegsSp);
                b.Add(3, 8L * entry.Index);
                EmitRead8(b, faulted);
                break;
            case FetchArgument argument when argument.Index >= ArgumentOffsets.Length:
                b.Mov(Val, 0);
                break;
            case FetchArgument argument when probeEvent.IsReturn:
                // Saved at entry (kretprobe instance data); the host copies them into the record buffer's tail.
                b.Load(BPF_DW, Val, Rec, layout.TailOffset + 8 + (8 * argument.Index));
                break;
            case FetchArgument argument:
                b.Load(BPF_DW, Val, Ctx, ArgumentOffsets[argument.Index]);
                break;
            case FetchComm:
                b.Call(35);
                b.MovReg(Val, 0);
                b.Add(Val, CommOffset);
                break;
            case FetchImmediate immediate:
                b.LoadImm64(Val, immediate.Value);
                break;
            case FetchDereference dereference:
                b.MovReg(3, Val);
                b.Add(3, dereference.Offset);
                EmitRead8(b, faulted);
                break;
            default:
                throw new NotSupportedException($"no BPF lowering for {step.GetType().Name}");
        }
    }

    // pt_regs offsets (x86-64) of sp, ax and the System V argument registers di, si, dx, cx, r8, r9.
    private const int PtRegsSp = 152, PtRegsAx = 80;
    private static readonly int[] ArgumentOffsets = [112, 104, 96, 88, 72, 64];

    /// <summary>offsetof(struct task_struct, comm) in the simulated kernel.</summary>
    private const int CommOffset = 24;

    /// <summary>Val = *(u64 *)r3 through bpf_probe_read_kernel into the stack; a fault goes to <paramref name="faulted"/>.</summary>
    private static void EmitRead8(BpfCodeBuilder b, BpfLabel faulted)
    {
        b.MovReg(1, 10);
        b.Add(1, TmpSlot);
        b.Mov(2, 8);
        b.Call(113);
        b.JumpIf(BPF_JNE, 0, 0, faulted);
        b.Load(BPF_DW, Val, 10, TmpSlot);
    }

    private static void EmitBitfield(BpfCodeBuilder b, byte reg, Bitfield? bitfield)
    {
        if (bitfield is not { } bits)
            return;
        var left = 64 - bits.Width - bits.Offset;
        if (left > 0)
            b.Alu(BPF_LSH, reg, left);
        if (bits.Width < 64)
            b.Alu(BPF_RSH, reg, 64 - bits.Width);
    }

    private static void EmitString(BpfCodeBuilder b, long offset, int field, FetchRecordLayout layout, BpfLabel faulted, BpfLabel drop)
    {
        var capped = b.NewLabel();
        // room = min(StoreString.MaxLength, End - dyn); 0 is a fault, as in the classic path.
        b.Mov(2, layout.End);
        b.AluReg(BPF_SUB, 2, Dyn);
        b.JumpIf(BPF_JLE, 2, StoreString.MaxLength, capped);
        b.Mov(2, StoreString.MaxLength);
        b.Bind(capped);
        b.JumpIf(BPF_JEQ, 2, 0, faulted);
        b.MovReg(1, Rec);
        b.AluReg(BPF_ADD, 1, Dyn);
        b.MovReg(3, Val);
        b.Add(3, offset);
        b.Call(115);
        b.JumpIf(BPF_JSLT, 0, 1, faulted);
        b.JumpIf(BPF_JGT, 0, StoreString.MaxLength, faulted); // never taken: bounds R0 for the verifier
        EmitDataLoc(b, 0, field);
        b.AluReg(BPF_ADD, Dyn, 0);
        b.JumpIf(BPF_JGT, Dyn, layout.End, drop); // never taken: keeps R9 bounded
    }

    /// <summary>*(u32 *)(rec + field) = length &lt;&lt; 16 | dyn.</summary>
    private static void EmitDataLoc(BpfCodeBuilder b, byte length, int field)
    {
        b.MovReg(1, length);
        b.Alu(BPF_LSH, 1, 16);
        b.AluReg(BPF_OR, 1, Dyn);
        b.Store(BPF_W, Rec, 1, field);
    }

    private static void EmitImmediateString(BpfCodeBuilder b, ReadOnlySpan<byte> text, int field, FetchRecordLayout layout, BpfLabel faulted, BpfLabel drop)
    {
        if (text.Length > MaxImmediateString)
            throw new NotSupportedException($"immediate strings longer than {MaxImmediateString} bytes are not compiled to BPF");
        var truncated = b.NewLabel();
        var nul = b.NewLabel();
        var stored = b.NewLabel();
        b.Mov(2, layout.End);
        b.AluReg(BPF_SUB, 2, Dyn);
        b.JumpIf(BPF_JEQ, 2, 0, faulted);
        b.MovReg(1, Rec);
        b.AluReg(BPF_ADD, 1, Dyn);
        b.JumpIf(BPF_JLT, 2, text.Length + 1, truncated);

        for (var i = 0; i < text.Length; i++)
            b.StoreImm(BPF_B, 1, i, text[i]);
        b.StoreImm(BPF_B, 1, text.Length, 0);
        b.Mov(2, text.Length + 1);
        b.Jump(stored);

        // Less room than the string: its first room - 1 bytes and a NUL (the classic store's Math.Min).
        b.Bind(truncated);
        for (var i = 0; i < text.Length; i++)
        {
            b.JumpIf(BPF_JLE, 2, i + 1, nul);
            b.StoreImm(BPF_B, 1, i, text[i]);
        }

        b.Bind(nul);
        b.AluReg(BPF_ADD, 1, 2);
        b.StoreImm(BPF_B, 1, -1, 0);

        b.Bind(stored);
        EmitDataLoc(b, 2, field);
        b.AluReg(BPF_ADD, Dyn, 2);
        b.JumpIf(BPF_JGT, Dyn, layout.End, drop);
    }
}
