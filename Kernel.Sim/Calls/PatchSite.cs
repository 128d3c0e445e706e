using System.Buffers.Binary;

namespace Kernel.Sim.Calls;

/// <summary>What a 5-byte patchable site currently decodes to.</summary>
public enum PatchedInstruction
{
    /// <summary><c>call rel32</c> (e8).</summary>
    Call,

    /// <summary><c>jmp rel32</c> (e9).</summary>
    Jump,

    /// <summary>The 5-byte NOP <c>nopl 0x0(%rax,%rax,1)</c> (0f 1f 44 00 00).</summary>
    Nop,

    /// <summary><c>xor %eax,%eax</c> padded with <c>cs</c> prefixes (2e 2e 2e 31 c0): an inline RET0 site.</summary>
    Return0,

    /// <summary><c>ret</c> followed by int3 padding (c3 cc cc cc cc): a NULL out-of-line trampoline.</summary>
    Return,

    /// <summary>First byte is <c>int3</c> (cc): a text_poke_bp is in progress; the trap handler emulates the new instruction.</summary>
    Breakpoint,

    /// <summary>Anything else: a torn or corrupt site.</summary>
    Invalid,
}

/// <summary>
/// The observable byte-level model of one patchable 5-byte instruction (a static_call site or trampoline, a static
/// key jump site, an adaptive guard's candidate compare). Bytes change only through <see cref="TextPoke"/>.
/// </summary>
public sealed class PatchSite
{
    /// <summary>Length of every patchable instruction (x86 <c>CALL_INSN_SIZE</c> / <c>JUMP_LABEL_NOP_SIZE</c>).</summary>
    public const int Length = 5;

    private static readonly byte[] Nop5 = [0x0f, 0x1f, 0x44, 0x00, 0x00];
    private static readonly byte[] Xor5Rax = [0x2e, 0x2e, 0x2e, 0x31, 0xc0];
    private static readonly byte[] Ret5 = [0xc3, 0xcc, 0xcc, 0xcc, 0xcc];

    private readonly byte[] _bytes = new byte[Length];

    public PatchSite(string name, ulong address, ReadOnlySpan<byte> initial)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (initial.Length != Length)
            throw new ArgumentException($"patch site {name}: instruction must be {Length} bytes, not {initial.Length}", nameof(initial));
        Name = name;
        Address = address;
        initial.CopyTo(_bytes);
    }

    /// <summary>Site name.</summary>
    public string Name { get; }

    /// <summary>Simulated address of the instruction.</summary>
    public ulong Address { get; }

    /// <summary>The current bytes (a copy).</summary>
    public byte[] Bytes
    {
        get
        {
            lock (_bytes)
                return (byte[])_bytes.Clone();
        }
    }

    /// <summary>Number of completed text_poke_bp sequences on this site.</summary>
    public long Pokes { get; internal set; }

    internal object TextMutex => _bytes;

    internal void Write(int offset, ReadOnlySpan<byte> bytes)
    {
        lock (_bytes)
            bytes.CopyTo(_bytes.AsSpan(offset));
    }

    /// <summary>Decodes the current bytes.</summary>
    public PatchedInstruction Decode() => Decode(Bytes, out _);

    /// <summary>Decodes <paramref name="bytes"/> at this site; <paramref name="target"/> is the destination of a call or jmp.</summary>
    public PatchedInstruction Decode(ReadOnlySpan<byte> bytes, out ulong target)
    {
        target = 0;
        if (bytes[0] == 0xcc)
            return PatchedInstruction.Breakpoint;
        if (bytes[0] is 0xe8 or 0xe9)
        {
            target = Address + Length + (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(bytes[1..]);
            return bytes[0] == 0xe8 ? PatchedInstruction.Call : PatchedInstruction.Jump;
        }

        if (bytes.SequenceEqual(Nop5))
            return PatchedInstruction.Nop;
        if (bytes.SequenceEqual(Xor5Rax))
            return PatchedInstruction.Return0;
        return bytes.SequenceEqual(Ret5) ? PatchedInstruction.Return : PatchedInstruction.Invalid;
    }

    /// <summary>Encodes <c>call rel32</c> or <c>jmp rel32</c> from <paramref name="site"/> to <paramref name="target"/>.</summary>
    public static byte[] Branch(ulong site, ulong target, bool call)
    {
        var displacement = (long)(target - (site + Length));
        if (displacement is < int.MinValue or > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(target), $"target {target:x} is out of rel32 range of {site:x}");
        var bytes = new byte[Length];
        bytes[0] = call ? (byte)0xe8 : (byte)0xe9;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(1), (int)displacement);
        return bytes;
    }

    /// <summary>The 5-byte NOP.</summary>
    public static byte[] Nop() => (byte[])Nop5.Clone();

    /// <summary>The inline RET0 instruction.</summary>
    public static byte[] Return0() => (byte[])Xor5Rax.Clone();

    /// <summary>The NULL trampoline body.</summary>
    public static byte[] Return() => (byte[])Ret5.Clone();

    public override string ToString() => $"{Name} @{Address:x}: {Convert.ToHexString(Bytes).ToLowerInvariant()}";
}
