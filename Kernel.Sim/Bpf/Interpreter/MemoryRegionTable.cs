namespace Kernel.Sim.Bpf.Interpreter;

/// <summary>One range of host memory a program may touch.</summary>
/// <param name="Start">The first address.</param>
/// <param name="Length">The length in bytes.</param>
/// <param name="Writable">False for read-only memory (stores and atomics are refused).</param>
/// <param name="Name">What the region is (<c>map value</c>, <c>packet</c>), for error messages.</param>
public readonly record struct MemoryRegion(ulong Start, ulong Length, bool Writable, string Name)
{
    /// <summary>True when [address, address + size) lies inside the region.</summary>
    public bool Contains(ulong address, int size)
    {
        var offset = address - Start;
        // offset wraps to a huge value below Start, so one compare covers both ends.
        return offset < Length && Length - offset >= (ulong)size;
    }
}

/// <summary>
/// The memory a program may touch beyond its own stack and input: later issues register map values and packet
/// buffers here (native memory, so a pointer in a BPF register is a real address as in Linux). Registration is
/// rare; lookup is a linear scan over a short array, done only when an access misses the stack and the input.
/// Not thread-safe for registration while a run is in progress on another thread.
/// </summary>
public sealed class MemoryRegionTable
{
    private MemoryRegion[] _regions = [];

    /// <summary>The registered regions.</summary>
    public IReadOnlyList<MemoryRegion> Regions => _regions;

    /// <summary>Adds a region (published as a new array so a concurrent reader sees either the old or the new set).</summary>
    public void Add(MemoryRegion region)
    {
        if (region.Length == 0)
            throw new ArgumentException("a region needs at least one byte", nameof(region));
        _regions = [.. _regions, region];
    }

    /// <summary>Removes the region starting at <paramref name="start"/>; returns false when there is none.</summary>
    public bool Remove(ulong start)
    {
        var index = Array.FindIndex(_regions, r => r.Start == start);
        if (index < 0)
            return false;
        _regions = [.. _regions.Where((_, i) => i != index)];
        return true;
    }

    /// <summary>True when the access lies inside one region (and the region is writable for a store).</summary>
    public bool Allows(ulong address, int size, bool write)
    {
        foreach (var region in _regions)
        {
            if (region.Contains(address, size))
                return !write || region.Writable;
        }

        return false;
    }
}
