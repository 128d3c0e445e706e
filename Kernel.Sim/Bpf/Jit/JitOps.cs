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

    // ---- Atomics: each returns the old value (zero-extended for 32 bits); the IL keeps it only for BPF_FETCH.
    // Not inlined: inlined into the emitted methods, RyuJIT (.NET 10, x64) sometimes drops the zero-extension of a
    // value derived from an Interlocked result (a 32-bit lock cmpxchg whose EAX is not written on success, a
    // (uint) cast of a 64-bit xadd result): `kernelsim bpf jit-fuzz --count 20000 --seed 20000` on a Release build found
    // two such programs. The non-fetching add/and/or, whose result is discarded, are emitted inline instead
    // (JitFunctionEmitter.EmitAtomic): the counter idiom costs no call.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Add32(ulong address, ulong value) => (uint)(Interlocked.Add(ref *(int*)address, (int)value) - (int)value);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Add64(ulong address, ulong value) => (ulong)(Interlocked.Add(ref *(long*)address, (long)value) - (long)value);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong And32(ulong address, ulong value) => (uint)Interlocked.And(ref *(int*)address, (int)value);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong And64(ulong address, ulong value) => (ulong)Interlocked.And(ref *(long*)address, (long)value);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Or32(ulong address, ulong value) => (uint)Interlocked.Or(ref *(int*)address, (int)value);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Or64(ulong address, ulong value) => (ulong)Interlocked.Or(ref *(long*)address, (long)value);

    // Interlocked has no Xor: a compare-exchange loop, as the kernel's generic atomic_fetch_xor does.
    public static ulong Xor32(ulong address, ulong value)
    {
        ref var cell = ref *(int*)address;
        int old;
        do
            old = Volatile.Read(ref cell);
        while (Interlocked.CompareExchange(ref cell, old ^ (int)value, old) != old);
        return (uint)old;
    }

    public static ulong Xor64(ulong address, ulong value)
    {
        ref var cell = ref *(long*)address;
        long old;
        do
            old = Volatile.Read(ref cell);
        while (Interlocked.CompareExchange(ref cell, old ^ (long)value, old) != old);
        return (ulong)old;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Xchg32(ulong address, ulong value) => (uint)Interlocked.Exchange(ref *(int*)address, (int)value);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Xchg64(ulong address, ulong value) => (ulong)Interlocked.Exchange(ref *(long*)address, (long)value);

    /// <summary>cmpxchg: compares with the low half of r0; the old value is the new r0 (zero-extended).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong CmpXchg32(ulong address, ulong value, ulong r0) => (uint)Interlocked.CompareExchange(ref *(int*)address, (int)value, (int)r0);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong CmpXchg64(ulong address, ulong value, ulong r0) => (ulong)Interlocked.CompareExchange(ref *(long*)address, (long)value, (long)r0);

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
