using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Kernel.Sim.Bpf.Jit;

/// <summary>
/// Operations the emitted IL calls instead of spelling them out inline: the signed division forms (whose
/// INT_MIN / -1 case would raise OverflowException in IL), the atomics (Interlocked on the real address) and the
/// legacy packet loads. The division forms are inlined into the emitted method; the atomics are real calls (see there).
/// </summary>
internal static unsafe class JitOps
{
    /// <summary>The value <see cref="LoadPacket"/> returns for an out-of-bounds load (loads are at most 32 bits wide).</summary>
    public const ulong PacketMiss = ulong.MaxValue;

    // ---- sdiv/smod (RFC 9669): x / 0 = 0, x % 0 = x, INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SDiv64(ulong dst, ulong src) =>
        src == 0 ? 0 : (long)src == -1 ? 0UL - dst : (ulong)((long)dst / (long)src);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SMod64(ulong dst, ulong src) =>
        src == 0 ? dst : (long)src == -1 ? 0 : (ulong)((long)dst % (long)src);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SDiv32(ulong dst, ulong src) =>
        (uint)src == 0 ? 0 : (int)src == -1 ? 0u - (uint)dst : (uint)((int)dst / (int)src);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SMod32(ulong dst, ulong src) =>
        (uint)src == 0 ? (uint)dst : (int)src == -1 ? 0 : (uint)((int)dst % (int)src);

    /// <summary>
    /// LD_ABS/LD_IND: a big-endian load of 1, 2 or 4 bytes at offset <paramref name="k"/> of the input memory, or
    /// <see cref="PacketMiss"/> when out of bounds (the program then ends with r0 = 0, as in Linux and the interpreter).
    /// </summary>
    public static ulong LoadPacket(JitRuntime runtime, int k, int size)
    {
        if (k < 0 || (ulong)k + (ulong)size > (ulong)runtime.MemoryLength)
            return PacketMiss;
        var at = (byte*)runtime.Memory + k;
        return size switch
        {
            1 => *at,
            2 => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(at)),
            _ => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(at)),
        };
    }
}
