using System.Runtime.InteropServices;

namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// One zeroed, page-aligned native allocation that never moves: map storage lives here so the value pointers
/// programs receive are real addresses, as in Linux. Freed on dispose (idempotent).
/// </summary>
internal sealed unsafe class NativeBlock : IDisposable
{
    public const int PageSize = 4096;

    public NativeBlock(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Length = length;
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, PageSize);
        NativeMemory.Clear(Pointer, (nuint)length);
    }

    /// <summary>The first byte (null after dispose).</summary>
    public byte* Pointer { get; private set; }

    /// <summary>The length in bytes.</summary>
    public long Length { get; }

    /// <summary>The first byte as an address.</summary>
    public ulong Address => (ulong)Pointer;

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    // A registry that is never disposed must not leak its maps' storage for the life of the process.
    ~NativeBlock() => Free();

    private void Free()
    {
        var p = Pointer;
        if (p is null)
            return;
        Pointer = null;
        NativeMemory.AlignedFree(p);
    }
}
