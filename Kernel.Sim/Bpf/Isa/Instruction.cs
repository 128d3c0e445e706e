using System.Buffers.Binary;
using System.Runtime.InteropServices;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Isa;

/// <summary>
/// One 8-byte eBPF instruction slot exactly as <c>struct bpf_insn</c> lays it out in little-endian memory:
/// opcode, dst_reg:4 | src_reg:4, s16 off, s32 imm. An lddw occupies two slots; the second carries the
/// upper 32 bits of the immediate in its <see cref="Imm"/> and must otherwise be zero.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 8)]
public readonly struct Instruction : IEquatable<Instruction>
{
    /// <summary>Size of one instruction slot in bytes.</summary>
    public const int Size = 8;

    /// <summary>The opcode byte.</summary>
    public readonly byte Opcode;

    /// <summary>dst_reg in the low nibble, src_reg in the high nibble.</summary>
    public readonly byte Regs;

    /// <summary>The signed 16-bit offset.</summary>
    public readonly short Offset;

    /// <summary>The signed 32-bit immediate.</summary>
    public readonly int Imm;

    public Instruction(byte opcode, byte dst, byte src, short offset, int imm)
    {
        Opcode = opcode;
        Regs = (byte)((dst & 0x0f) | ((src & 0x0f) << 4));
        Offset = offset;
        Imm = imm;
    }

    /// <summary>The destination register field (0..15; valid registers are 0..10).</summary>
    public byte Dst => (byte)(Regs & 0x0f);

    /// <summary>The source register field (0..15).</summary>
    public byte Src => (byte)(Regs >> 4);

    /// <summary>The instruction class.</summary>
    public byte Class => (byte)(Opcode & 0x07);

    /// <summary>True when this slot is the first half of an lddw.</summary>
    public bool IsLdImm64 => Opcode == LdImm64;

    /// <summary>Decodes one slot from 8 little-endian bytes.</summary>
    public static Instruction Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size)
            throw new ArgumentException("an instruction needs 8 bytes", nameof(bytes));
        return new Instruction(
            bytes[0],
            (byte)(bytes[1] & 0x0f),
            (byte)(bytes[1] >> 4),
            BinaryPrimitives.ReadInt16LittleEndian(bytes[2..]),
            BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]));
    }

    /// <summary>Encodes this slot as 8 little-endian bytes.</summary>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
            throw new ArgumentException("an instruction needs 8 bytes", nameof(destination));
        destination[0] = Opcode;
        destination[1] = Regs;
        BinaryPrimitives.WriteInt16LittleEndian(destination[2..], Offset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Imm);
    }

    /// <summary>The slot as one 64-bit word in host (little-endian) layout, as the conformance <c>-- raw</c> section writes it.</summary>
    public ulong ToUInt64() =>
        Opcode | ((ulong)Regs << 8) | ((ulong)(ushort)Offset << 16) | ((ulong)(uint)Imm << 32);

    /// <summary>The inverse of <see cref="ToUInt64"/>.</summary>
    public static Instruction FromUInt64(ulong word) =>
        new((byte)word, (byte)((word >> 8) & 0x0f), (byte)((word >> 12) & 0x0f), (short)(word >> 16), (int)(word >> 32));

    /// <summary>Decodes a whole program of whole slots (no validation; the verifier and the loaders validate).</summary>
    public static Instruction[] ReadAll(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % Size != 0)
            throw new ArgumentException($"program length {bytes.Length} is not a multiple of 8", nameof(bytes));
        var result = new Instruction[bytes.Length / Size];
        for (var i = 0; i < result.Length; i++)
            result[i] = Read(bytes.Slice(i * Size, Size));
        return result;
    }

    /// <summary>Encodes a whole program.</summary>
    public static byte[] WriteAll(ReadOnlySpan<Instruction> program)
    {
        var bytes = new byte[program.Length * Size];
        for (var i = 0; i < program.Length; i++)
            program[i].Write(bytes.AsSpan(i * Size, Size));
        return bytes;
    }

    public bool Equals(Instruction other) =>
        Opcode == other.Opcode && Regs == other.Regs && Offset == other.Offset && Imm == other.Imm;

    public override bool Equals(object? obj) => obj is Instruction other && Equals(other);

    public override int GetHashCode() => ToUInt64().GetHashCode();

    public static bool operator ==(Instruction left, Instruction right) => left.Equals(right);

    public static bool operator !=(Instruction left, Instruction right) => !left.Equals(right);

    /// <summary>The raw fields, as bpftool's <c>-d</c> output shows them (<c>(bf) dst=1 src=2 off=0 imm=0</c>).</summary>
    public override string ToString() =>
        $"({Opcode:x2}) dst={Dst} src={Src} off={Offset} imm={Imm}";

    // Constructors for the common forms, used by tests, the fuzzer and code generators.

    public static Instruction Alu64Imm(byte op, byte dst, int imm) => new((byte)(BPF_ALU64 | op | BPF_K), dst, 0, 0, imm);

    public static Instruction Alu64Reg(byte op, byte dst, byte src) => new((byte)(BPF_ALU64 | op | BPF_X), dst, src, 0, 0);

    public static Instruction Alu32Imm(byte op, byte dst, int imm) => new((byte)(BPF_ALU | op | BPF_K), dst, 0, 0, imm);

    public static Instruction Alu32Reg(byte op, byte dst, byte src) => new((byte)(BPF_ALU | op | BPF_X), dst, src, 0, 0);

    public static Instruction Mov64Imm(byte dst, int imm) => Alu64Imm(BPF_MOV, dst, imm);

    public static Instruction Mov64Reg(byte dst, byte src) => Alu64Reg(BPF_MOV, dst, src);

    public static Instruction LoadMem(byte size, byte dst, byte src, short off) => new((byte)(BPF_LDX | BPF_MEM | size), dst, src, off, 0);

    public static Instruction StoreMem(byte size, byte dst, byte src, short off) => new((byte)(BPF_STX | BPF_MEM | size), dst, src, off, 0);

    public static Instruction StoreImm(byte size, byte dst, short off, int imm) => new((byte)(BPF_ST | BPF_MEM | size), dst, 0, off, imm);

    public static Instruction JumpImm(byte op, byte dst, int imm, short off) => new((byte)(BPF_JMP | op | BPF_K), dst, 0, off, imm);

    public static Instruction JumpReg(byte op, byte dst, byte src, short off) => new((byte)(BPF_JMP | op | BPF_X), dst, src, off, 0);

    public static Instruction Ja(short off) => new(BPF_JMP | BPF_JA, 0, 0, off, 0);

    public static Instruction Call(int helper) => new(BPF_JMP | BPF_CALL, 0, 0, 0, helper);

    public static Instruction Exit() => new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

    /// <summary>Both slots of an lddw.</summary>
    public static (Instruction First, Instruction Second) LdImm64Pair(byte dst, ulong value, byte src = 0) =>
        (new Instruction(LdImm64, dst, src, 0, (int)(uint)value), new Instruction(0, 0, 0, 0, (int)(uint)(value >> 32)));
}
