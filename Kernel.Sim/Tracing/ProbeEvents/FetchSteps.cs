using System.Buffers.Binary;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing.ProbeEvents;

/// <summary>What a fetch chain runs on: the probe's registers, kernel memory, the CPU, and the value being computed.</summary>
public unsafe struct FetchState
{
    public PtRegs* Regs;
    /// <summary>For a return probe: the six register arguments saved at entry (null on an entry probe).</summary>
    public ulong* EntryArguments;
    public KernelMemory Memory;
    public SimulatedCpu Cpu;
    public ulong Value;
    public bool Faulted;
}

/// <summary>
/// One step of the classic fetch path: each argument is a chain of these, each called through a virtual (indirect)
/// call, as the kernel's fetch functions were. Value steps produce an address or value; deref steps follow it.
/// </summary>
public abstract class FetchStep
{
    public abstract void Run(ref FetchState state);
}

/// <summary><c>%REG</c>: a pt_regs field.</summary>
public sealed unsafe class FetchRegister(int offset) : FetchStep
{
    /// <summary>The pt_regs offset read.</summary>
    public int RegisterOffset => offset;

    public override void Run(ref FetchState state) => state.Value = *(ulong*)((byte*)state.Regs + offset);
}

/// <summary><c>$stackN</c>: the Nth entry of the kernel stack at the probe (regs_get_kernel_stack_nth).</summary>
public sealed unsafe class FetchStackEntry(int n) : FetchStep
{
    /// <summary>N of <c>$stackN</c>.</summary>
    public int Index => n;

    public override void Run(ref FetchState state)
    {
        if (state.Memory.ProbeRead(state.Regs->sp + (ulong)(8 * n), out ulong value) != 0)
            state.Faulted = true;
        state.Value = value;
    }
}

/// <summary><c>$stack</c>: the stack pointer.</summary>
public sealed unsafe class FetchStackPointer : FetchStep
{
    public override void Run(ref FetchState state) => state.Value = state.Regs->sp;
}

/// <summary><c>$retval</c>: ax at the return.</summary>
public sealed unsafe class FetchReturnValue : FetchStep
{
    public override void Run(ref FetchState state) => state.Value = state.Regs->ax;
}

/// <summary><c>$argN</c>: regs_get_kernel_argument(N-1), or on a return probe the value saved at entry.</summary>
public sealed unsafe class FetchArgument(int index) : FetchStep
{
    /// <summary>The 0-based argument index.</summary>
    public int Index => index;

    public override void Run(ref FetchState state) =>
        state.Value = state.EntryArguments != null ? state.EntryArguments[index] : state.Regs->Argument(index);
}

/// <summary><c>$comm</c>: the address of current->comm.</summary>
public sealed unsafe class FetchComm : FetchStep
{
    public override void Run(ref FetchState state) => state.Value = state.Cpu.CurrentTask.Address + 24;
}

/// <summary><c>\IMM</c> and <c>@ADDR</c>/<c>@SYM</c> (an address): a constant.</summary>
public sealed class FetchImmediate(ulong value) : FetchStep
{
    /// <summary>The constant.</summary>
    public ulong Value => value;

    public override void Run(ref FetchState state) => state.Value = value;
}

/// <summary><c>+OFFS(...)</c>: reads the 8-byte value at value + offset (probe_read, a fault stops the chain).</summary>
public sealed class FetchDereference(long offset) : FetchStep
{
    /// <summary>The signed offset added before reading.</summary>
    public long Offset { get; } = offset;

    public override void Run(ref FetchState state)
    {
        if (state.Memory.ProbeRead((ulong)((long)state.Value + Offset), out ulong value) != 0)
            state.Faulted = true;
        state.Value = value;
    }
}

/// <summary>The last step of an argument: writes the fetched value into the entry.</summary>
public abstract class FetchStore
{
    /// <summary>Writes the field (and dynamic data for strings); returns bytes appended to the dynamic area.</summary>
    public abstract int Store(ref FetchState state, Span<byte> field, Span<byte> dynamic, int dynamicOffset);
}

/// <summary>Stores the value's low bytes (a register, $stackN, $retval, an immediate).</summary>
public sealed class StoreRaw(int size, Bitfield? bitfield) : FetchStore
{
    /// <summary>Bytes stored.</summary>
    public int Size => size;

    /// <summary>The bitfield extracted first, if any.</summary>
    public Bitfield? Bitfield => bitfield;

    public override int Store(ref FetchState state, Span<byte> field, Span<byte> dynamic, int dynamicOffset)
    {
        var value = bitfield is { } b ? b.Apply(state.Value) : state.Value;
        WriteSized(field, size, value);
        return 0;
    }

    internal static void WriteSized(Span<byte> field, int size, ulong value)
    {
        switch (size)
        {
            case 1: field[0] = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)value); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)value); break;
            default: BinaryPrimitives.WriteUInt64LittleEndian(field, value); break;
        }
    }
}

/// <summary>Reads <c>count</c> values of <c>size</c> bytes at value + offset (the last dereference, sized to the type).</summary>
public sealed class StoreMemory(long offset, int size, int count, Bitfield? bitfield) : FetchStore
{
    /// <summary>The offset added to the value before reading.</summary>
    public long Offset => offset;

    /// <summary>Bytes per element.</summary>
    public int Size => size;

    /// <summary>Elements (1 unless an array type).</summary>
    public int Count => count;

    /// <summary>The bitfield extracted from each element, if any.</summary>
    public Bitfield? Bitfield => bitfield;

    public override int Store(ref FetchState state, Span<byte> field, Span<byte> dynamic, int dynamicOffset)
    {
        var address = (ulong)((long)state.Value + offset);
        Span<byte> one = stackalloc byte[8];
        for (var i = 0; i < count; i++)
        {
            one.Clear();
            if (state.Memory.ProbeRead(address + (ulong)(i * size), one[..size]) != 0)
            {
                state.Faulted = true;
                return 0;
            }

            var value = BinaryPrimitives.ReadUInt64LittleEndian(one);
            StoreRaw.WriteSized(field[(i * size)..], size, bitfield is { } b ? b.Apply(value) : value);
        }

        return 0;
    }
}

/// <summary>Reads a NUL-terminated string at value + offset into the dynamic area; the field is its __data_loc (len &lt;&lt; 16 | offset).</summary>
public sealed class StoreString(long offset) : FetchStore
{
    /// <summary>The offset added to the value before reading the string.</summary>
    public long Offset => offset;

    /// <summary>Longest string stored (KernelSim's cap; Linux's MAX_STRING_SIZE is PATH_MAX).</summary>
    public const int MaxLength = 256;

    public override int Store(ref FetchState state, Span<byte> field, Span<byte> dynamic, int dynamicOffset)
    {
        var room = Math.Min(MaxLength, dynamic.Length);
        var length = room == 0 ? -Errno.EFAULT : state.Memory.ProbeReadString((ulong)((long)state.Value + offset), dynamic[..room]);
        if (length < 0)
        {
            // Linux records a zero-length string and prints "(fault)".
            state.Faulted = true;
            BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)dynamicOffset);
            return 0;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(field, ((uint)length << 16) | (uint)dynamicOffset);
        return length;
    }
}

/// <summary>An immediate string (<c>\"text"</c>).</summary>
public sealed class StoreImmediateString(byte[] text) : FetchStore
{
    /// <summary>The string's bytes (no NUL).</summary>
    public ReadOnlySpan<byte> Text => text;

    public override int Store(ref FetchState state, Span<byte> field, Span<byte> dynamic, int dynamicOffset)
    {
        var length = Math.Min(text.Length + 1, dynamic.Length);
        text.AsSpan(0, length - 1).CopyTo(dynamic);
        dynamic[length - 1] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(field, ((uint)length << 16) | (uint)dynamicOffset);
        return length;
    }
}

/// <summary><c>b&lt;width&gt;@&lt;offset&gt;/&lt;container&gt;</c>: extracts a bitfield from the container value.</summary>
public readonly record struct Bitfield(int Width, int Offset, int ContainerBits)
{
    public ulong Apply(ulong value)
    {
        var left = ContainerBits - Width - Offset + (64 - ContainerBits);
        return (value << left) >> (64 - Width);
    }
}
