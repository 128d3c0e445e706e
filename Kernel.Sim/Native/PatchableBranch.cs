namespace Kernel.Sim.Native;

/// <summary>
/// A live <c>call rel32</c> (E8) or <c>jmp rel32</c> (E9) in executable memory, retargeted while other threads
/// execute it, without SIGTRAP and without a writable+executable page.
/// </summary>
/// <remarks>
/// Linux's text_poke_bp writes int3 on the first byte, syncs, writes the tail, syncs, writes the first byte,
/// syncs; a CPU that fetches the site mid-update traps into the int3 handler, which emulates the call. A .NET
/// process cannot own a SIGTRAP handler that emulates a call, so this is the equivalent for a 5-byte branch:
/// <list type="number">
/// <item>The branch lies inside one naturally aligned 8-byte word (checked at construction). An aligned 8-byte
/// store is single-copy atomic on x86-64 (Intel SDM Vol. 3A, "Guaranteed Atomic Operations"), so the new opcode+rel32 replaces the old one
/// in one store through the RW alias: there is no moment at which the bytes are half old, half new, which is
/// exactly what the int3 step exists to hide.</item>
/// <item>Then <c>membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE)</c>: every thread of the process executes a
/// core-serialising instruction before the update returns, text_poke_bp's final sync. Intel's cross-modifying
/// code rule (SDM Vol. 3A, "Handling Self- and Cross-Modifying Code") asks the executing processor to serialise between the modification and the
/// execution of the new code; without that guarantee a CPU may still run the old instruction for a while
/// (harmless here: old and new are both whole, valid calls) — after the membarrier none can.</item>
/// </list>
/// The residual caveat is architectural: Intel documents atomicity for data accesses and the serialising protocol
/// for code, not instruction fetch of a concurrently stored aligned word. In practice fetch reads whole 16-byte
/// blocks and the store is one cache-line write, and the live-patching test checks the claim (no illegal
/// instruction, no stray target, counts exact).
/// </remarks>
internal sealed unsafe class PatchableBranch
{
    // membarrier registration is per process (the kernel keeps it in the mm), so its flag is too.
    private static readonly object SyncLock = new();
    private static bool _syncCoreRegistered;
    private readonly ExecutableMemory _memory;
    private readonly byte _opcode;
    private readonly ulong _word;
    private readonly int _shift;

    public PatchableBranch(ExecutableMemory memory, ulong address, byte opcode)
    {
        _memory = memory;
        _opcode = opcode;
        Address = address;
        _word = address & ~7UL;
        _shift = (int)(address - _word) * 8;
        if (address - _word > 3)
            throw new InvalidOperationException($"branch at 0x{address:x} crosses an 8-byte boundary: it cannot be patched with one atomic store");
        if (*(byte*)address != opcode)
            throw new InvalidOperationException($"expected opcode 0x{opcode:X2} at 0x{address:x}, found 0x{*(byte*)address:X2}");
    }

    /// <summary>Address of the branch's first byte in the executable view.</summary>
    public ulong Address { get; }

    /// <summary>The address the branch currently reaches.</summary>
    public ulong Target => Address + 5 + (ulong)(long)*(int*)(Address + 1);

    /// <summary>Retargets the branch to <paramref name="target"/>: one atomic aligned 8-byte store, then a core sync of every thread.</summary>
    public void Retarget(ulong target)
    {
        var alias = _memory.WritableAlias;
        if (alias == 0)
            throw new InvalidOperationException("the image is sealed: it was not created patchable");
        var displacement = (long)target - (long)(Address + 5);
        if (displacement is < int.MinValue or > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(target), $"0x{target:x} is out of rel32 reach of 0x{Address:x}");
        var slot = (ulong*)(alias + (nint)(_word - (ulong)_memory.Executable));
        var mask = 0xFF_FFFF_FFFFUL << _shift;
        var branch = ((ulong)_opcode | ((ulong)(uint)(int)displacement << 8)) << _shift;
        // Bytes of the word outside the branch are other instructions; they are written back unchanged (and a
        // concurrent retarget of the same word is not lost: compare-and-exchange until ours is the store).
        ulong old;
        do
        {
            old = Volatile.Read(ref *slot);
        }
        while (Interlocked.CompareExchange(ref *slot, (old & ~mask) | branch, old) != old);
        SyncCore();
    }

    /// <summary>Makes every thread of the process execute a serialising instruction (membarrier SYNC_CORE).</summary>
    internal static void SyncCore()
    {
        lock (SyncLock)
        {
            if (!_syncCoreRegistered)
            {
                if (Libc.Syscall(Libc.SYS_membarrier, Libc.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) != 0)
                    throw new NativeLabException($"membarrier(REGISTER_PRIVATE_EXPEDITED_SYNC_CORE) failed: {Libc.LastError()}");
                _syncCoreRegistered = true;
            }
        }

        if (Libc.Syscall(Libc.SYS_membarrier, Libc.MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) != 0)
            throw new NativeLabException($"membarrier(PRIVATE_EXPEDITED_SYNC_CORE) failed: {Libc.LastError()}");
    }
}
