using System.Runtime.InteropServices;

namespace Kernel.Sim.Core;

/// <summary>One native allocation that belongs to the simulated kernel (a slab object, a per-CPU stack, ...).</summary>
public sealed class MemoryRegion
{
    internal MemoryRegion(string name, ulong start, ulong size)
    {
        Name = name;
        Start = start;
        Size = size;
    }

    /// <summary>What the region holds, for diagnostics (<c>"stack/cpu0"</c>, <c>"init_task"</c>).</summary>
    public string Name { get; }

    /// <summary>Real address of the first byte.</summary>
    public ulong Start { get; }

    /// <summary>Length in bytes.</summary>
    public ulong Size { get; }

    /// <summary>One past the last byte.</summary>
    public ulong End => Start + Size;

    /// <summary>True once the region was freed; its addresses no longer resolve.</summary>
    public bool Freed { get; internal set; }

    /// <summary>Whether [address, address+length) lies entirely in this region.</summary>
    public bool Contains(ulong address, ulong length) =>
        address >= Start && length <= Size && address - Start <= Size - length;
}

/// <summary>
/// Kernel memory: native allocations registered in one region table. Addresses are real, so a pointer in a
/// register or a BPF program means what it means in Linux; <see cref="ProbeRead"/> checks an address against the
/// table and returns <c>-EFAULT</c> instead of faulting. Lookups are lock-free: the sorted table is an immutable
/// array republished with one atomic store on every allocation or free.
/// </summary>
public sealed unsafe class KernelMemory : IDisposable
{
    private readonly Lock _writeLock = new();
    private MemoryRegion[] _regions = [];
    private bool _disposed;

    /// <summary>The regions currently allocated, by start address.</summary>
    public IReadOnlyList<MemoryRegion> Regions => Volatile.Read(ref _regions);

    /// <summary>Allocates <paramref name="size"/> zeroed bytes (kzalloc) and registers them.</summary>
    public MemoryRegion Allocate(string name, ulong size, ulong alignment = 16)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfZero(size);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var pointer = NativeMemory.AlignedAlloc((nuint)size, (nuint)alignment);
        NativeMemory.Clear(pointer, (nuint)size);
        var region = new MemoryRegion(name, (ulong)pointer, size);
        lock (_writeLock)
        {
            var next = new MemoryRegion[_regions.Length + 1];
            var at = 0;
            while (at < _regions.Length && _regions[at].Start < region.Start)
                at++;
            Array.Copy(_regions, 0, next, 0, at);
            next[at] = region;
            Array.Copy(_regions, at, next, at + 1, _regions.Length - at);
            Volatile.Write(ref _regions, next);
        }

        return region;
    }

    /// <summary>Allocates room for one <typeparamref name="T"/> and returns a pointer to it.</summary>
    public T* Allocate<T>(string name) where T : unmanaged => (T*)Allocate(name, (ulong)sizeof(T), 64).Start;

    /// <summary>Unregisters and frees a region (kfree). Later reads of its addresses return -EFAULT.</summary>
    public void Free(MemoryRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        lock (_writeLock)
        {
            if (region.Freed)
                throw new InvalidOperationException($"double free of region '{region.Name}'");
            Volatile.Write(ref _regions, _regions.Where(r => r != region).ToArray());
            region.Freed = true;
        }

        NativeMemory.AlignedFree((void*)region.Start);
    }

    /// <summary>The region holding <paramref name="address"/>, or null.</summary>
    public MemoryRegion? Find(ulong address)
    {
        var regions = Volatile.Read(ref _regions);
        int lo = 0, hi = regions.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var r = regions[mid];
            if (address < r.Start)
                hi = mid - 1;
            else if (address >= r.End)
                lo = mid + 1;
            else
                return r;
        }

        return null;
    }

    /// <summary>Whether [address, address+length) is readable kernel memory.</summary>
    public bool IsValid(ulong address, ulong length) => length == 0 || (Find(address)?.Contains(address, length) ?? false);

    /// <summary>
    /// bpf_probe_read_kernel / copy_from_kernel_nofault: copies <paramref name="destination"/>.Length bytes from
    /// <paramref name="address"/>. Returns 0, or -EFAULT (and zero-fills the destination, as Linux does) when any byte
    /// is outside kernel memory.
    /// </summary>
    public int ProbeRead(ulong address, Span<byte> destination)
    {
        if (!IsValid(address, (ulong)destination.Length))
        {
            destination.Clear();
            return -Errno.EFAULT;
        }

        new ReadOnlySpan<byte>((void*)address, destination.Length).CopyTo(destination);
        return 0;
    }

    /// <summary>Reads one unmanaged value with the same check as <see cref="ProbeRead"/>.</summary>
    public int ProbeRead<T>(ulong address, out T value) where T : unmanaged
    {
        if (!IsValid(address, (ulong)sizeof(T)))
        {
            value = default;
            return -Errno.EFAULT;
        }

        value = *(T*)address;
        return 0;
    }

    /// <summary>
    /// strncpy_from_kernel_nofault: copies a NUL-terminated string (at most destination.Length-1 bytes plus NUL).
    /// Returns the length including the NUL, or -EFAULT.
    /// </summary>
    public int ProbeReadString(ulong address, Span<byte> destination)
    {
        if (destination.IsEmpty)
            return 0;
        var region = Find(address);
        if (region is null)
            return -Errno.EFAULT;
        var available = (int)Math.Min((ulong)(destination.Length - 1), region.End - address);
        var source = new ReadOnlySpan<byte>((void*)address, available);
        var nul = source.IndexOf((byte)0);
        var length = nul >= 0 ? nul : available;
        if (nul < 0 && length < destination.Length - 1)
            return -Errno.EFAULT;
        source[..length].CopyTo(destination);
        destination[length] = 0;
        return length + 1;
    }

    /// <summary>Frees every region.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (var region in Volatile.Read(ref _regions))
        {
            region.Freed = true;
            NativeMemory.AlignedFree((void*)region.Start);
        }

        _regions = [];
    }
}
