using System.Runtime.CompilerServices;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Isa;

/// <summary>
/// BPF_ATOMIC's operations on a real address, shared by both engines so their semantics cannot drift: each returns
/// the old value (zero-extended for 32 bits); the JIT calls them from IL and keeps the result only for BPF_FETCH,
/// the interpreter goes through <see cref="Execute"/> after checking the address.
/// </summary>
internal static unsafe class BpfAtomics
{
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
    /// Runs atomic <paramref name="op"/> (the instruction's imm) on the 4- or 8-byte cell at <paramref name="address"/>
    /// with source register <paramref name="s"/> of <paramref name="r"/>: BPF_FETCH puts the old value in the source
    /// register, cmpxchg puts it in r0.
    /// </summary>
    public static void Execute(ulong address, bool wide, int op, ulong* r, int s)
    {
        var value = r[s];
        if (op == BPF_CMPXCHG)
        {
            r[0] = wide ? CmpXchg64(address, value, r[0]) : CmpXchg32(address, value, r[0]);
            return;
        }

        var old = (op & ~BPF_FETCH) switch
        {
            BPF_ADD => wide ? Add64(address, value) : Add32(address, value),
            BPF_AND => wide ? And64(address, value) : And32(address, value),
            BPF_OR => wide ? Or64(address, value) : Or32(address, value),
            BPF_XOR => wide ? Xor64(address, value) : Xor32(address, value),
            _ => wide ? Xchg64(address, value) : Xchg32(address, value),
        };
        if ((op & BPF_FETCH) != 0)
            r[s] = old;
    }
}
