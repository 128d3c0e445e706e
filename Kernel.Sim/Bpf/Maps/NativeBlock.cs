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
        if (Pointer is null)
            return;
        NativeMemory.AlignedFree(Pointer);
        Pointer = null;
    }
}
