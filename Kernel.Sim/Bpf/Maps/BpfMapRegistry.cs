using Kernel.Sim.Bpf.Interpreter;

namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// The fd table of one BPF subsystem: maps and programs share one fd space (from 3 up, as in a process), nothing is
/// static, so two kernels never share a map. Creating a map registers its value storage in the subsystem's
/// <see cref="MemoryRegionTable"/>; closing it removes the regions and frees the storage.
/// <para>
/// Map pointers: each map owns a 64-byte slot in one native block (holding map_type, key_size, value_size and
/// max_entries as u32s, struct bpf_map_def's order). The slot's address is the map pointer programs load with
/// <c>lddw rX, map[fd]</c>; a helper turns it back into the map with a range check and a division, never
/// dereferencing what the program passed.
/// </para>
/// </summary>
public sealed unsafe class BpfMapRegistry : IDisposable
{
    /// <summary>Most maps one subsystem can hold at once.</summary>
    public const int MaxMaps = 4096;

    /// <summary>Bytes of each map's pointer slot.</summary>
    public const int SlotSize = 64;

    /// <summary>The first fd handed out (0-2 are stdin, stdout, stderr).</summary>
    public const int FirstFd = 3;

    private readonly MemoryRegionTable _regions;
    private readonly NativeBlock _slots;
    private readonly BpfMap?[] _bySlot = new BpfMap?[MaxMaps];
    private readonly Dictionary<int, object> _byFd = [];
    private readonly List<BpfMap> _retired = [];
    private readonly Lock _lock = new();
    private RingBufMap[] _ringbufs = [];
    private int _nextFd = FirstFd;

    public BpfMapRegistry(MemoryRegionTable regions, int cpus = 1)
    {
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cpus);
        _regions = regions;
        Cpus = cpus;
        _slots = new NativeBlock((long)MaxMaps * SlotSize);
    }

    /// <summary>Possible CPUs: per-CPU maps keep this many copies of each value.</summary>
    public int Cpus { get; }

    /// <summary>The open maps, by fd.</summary>
    public IReadOnlyList<BpfMap> Maps
    {
        get
        {
            lock (_lock)
                return [.. _byFd.Values.OfType<BpfMap>().OrderBy(m => m.Fd)];
        }
    }

    /// <summary>BPF_MAP_CREATE: creates a map of <paramref name="definition"/>'s type; throws <see cref="MapCreateException"/> when Linux would refuse it.</summary>
    public BpfMap Create(MapDefinition definition, BpfMapFlags flags = BpfMapFlags.None)
    {
        ArgumentNullException.ThrowIfNull(definition);
        CheckFlags(definition, flags);
        BpfMap map = definition.Type switch
        {
            BpfMapType.Array or BpfMapType.PercpuArray => new ArrayMap(definition, Cpus),
            BpfMapType.Hash or BpfMapType.PercpuHash or BpfMapType.LruHash => new HashMap(definition, Cpus),
            BpfMapType.Ringbuf => new RingBufMap(definition, Cpus),
            BpfMapType.PerfEventArray => new PerfEventArrayMap(definition, Cpus),
            BpfMapType.ProgArray => new ProgArrayMap(definition, Cpus, this),
            _ => throw new MapCreateException(-BpfErrno.EINVAL, $"map '{definition.Name}': map type {definition.Type} is not supported by KernelSim"),
        };
        map.Flags = flags;
        lock (_lock)
        {
            var slot = Array.IndexOf(_bySlot, null);
            if (slot < 0)
            {
                map.Dispose();
                throw new MapCreateException(-BpfErrno.ENOSPC, $"map '{definition.Name}': more than {MaxMaps} maps");
            }

            var header = (uint*)(_slots.Pointer + ((long)slot * SlotSize));
            header[0] = (uint)definition.Type;
            header[1] = (uint)definition.KeySize;
            header[2] = (uint)definition.ValueSize;
            header[3] = (uint)definition.MaxEntries;
            map.Pointer = (ulong)header;
            map.Fd = _nextFd++;
            _byFd[map.Fd] = map;
            foreach (var region in map.Regions)
                _regions.Add(region);
            if (map is RingBufMap ring)
                _ringbufs = [.. _ringbufs, ring];
            Volatile.Write(ref _bySlot[slot], map);
        }

        return map;
    }

    // The map_flags checks of the map types' alloc_check callbacks that KernelSim can decide.
    private static void CheckFlags(MapDefinition definition, BpfMapFlags flags)
    {
        const BpfMapFlags Known = (BpfMapFlags)((1u << 13) - 1);
        string? error = null;
        if ((flags & ~Known) != 0)
            error = $"unknown map_flags 0x{(uint)(flags & ~Known):x}";
        else if ((flags & (BpfMapFlags.RdonlyProg | BpfMapFlags.WronlyProg)) == (BpfMapFlags.RdonlyProg | BpfMapFlags.WronlyProg) ||
                 (flags & (BpfMapFlags.Rdonly | BpfMapFlags.Wronly)) == (BpfMapFlags.Rdonly | BpfMapFlags.Wronly))
            error = "read-only and write-only together";
        else if ((flags & BpfMapFlags.Mmapable) != 0 && definition.Type != BpfMapType.Array)
            error = "BPF_F_MMAPABLE is for array maps only";
        else if ((flags & BpfMapFlags.NoCommonLru) != 0 && definition.Type != BpfMapType.LruHash)
            error = "BPF_F_NO_COMMON_LRU is for LRU maps only";
        else if ((flags & BpfMapFlags.NoPrealloc) != 0 && definition.Type is BpfMapType.LruHash or BpfMapType.Array or BpfMapType.PercpuArray)
            error = $"BPF_F_NO_PREALLOC is not allowed for {definition.Type} maps";
        if (error is not null)
            throw new MapCreateException(-BpfErrno.EINVAL, $"map '{definition.Name}': {error}");
    }

    /// <summary>Gives <paramref name="program"/> an fd (what BPF_PROG_LOAD returns) so prog arrays can hold it.</summary>
    public int RegisterProgram(IBpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        lock (_lock)
        {
            var fd = _nextFd++;
            _byFd[fd] = program;
            return fd;
        }
    }

    /// <summary>The map behind <paramref name="fd"/>, or null.</summary>
    public BpfMap? Map(int fd)
    {
        lock (_lock)
            return _byFd.TryGetValue(fd, out var o) ? o as BpfMap : null;
    }

    /// <summary>libbpf's bpf_map_lookup_elem(fd, key, value): 0, -ENOENT, or -EBADF when fd is no map.</summary>
    public int LookupElem(int fd, ReadOnlySpan<byte> key, Span<byte> value) =>
        Map(fd) is { } map ? map.LookupElem(key, value) : -BpfErrno.EBADF;

    /// <summary>libbpf's bpf_map_update_elem(fd, key, value, flags).</summary>
    public int UpdateElem(int fd, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = BpfUpdateFlags.BPF_ANY) =>
        Map(fd) is { } map ? map.UpdateElem(key, value, flags) : -BpfErrno.EBADF;

    /// <summary>libbpf's bpf_map_delete_elem(fd, key).</summary>
    public int DeleteElem(int fd, ReadOnlySpan<byte> key) =>
        Map(fd) is { } map ? map.DeleteElem(key) : -BpfErrno.EBADF;

    /// <summary>libbpf's bpf_map_get_next_key(fd, key, next_key); an empty key asks for the first.</summary>
    public int GetNextKey(int fd, ReadOnlySpan<byte> key, Span<byte> nextKey) =>
        Map(fd) is { } map ? map.GetNextKey(key, nextKey) : -BpfErrno.EBADF;

    /// <summary>The program behind <paramref name="fd"/>, or null.</summary>
    public IBpfProgram? Program(int fd)
    {
        lock (_lock)
            return _byFd.TryGetValue(fd, out var o) ? o as IBpfProgram : null;
    }

    /// <summary>The map whose pointer is <paramref name="pointer"/>, or null for anything else (checked without dereferencing).</summary>
    public BpfMap? FromPointer(ulong pointer)
    {
        var offset = pointer - _slots.Address;
        if (offset >= (ulong)MaxMaps * SlotSize || offset % SlotSize != 0)
            return null;
        return Volatile.Read(ref _bySlot[offset / SlotSize]);
    }

    /// <summary>The ring buffer whose data area holds the record at <paramref name="sample"/>, or null.</summary>
    public RingBufMap? RingbufOfSample(ulong sample)
    {
        foreach (var ring in Volatile.Read(ref _ringbufs))
        {
            if (ring.ContainsSample(sample))
                return ring;
        }

        return null;
    }

    /// <summary>
    /// close(fd): a program fd is released; a map's fd goes, and when no loaded program uses the map its regions are
    /// unregistered and its storage freed. A map that loaded programs still use stays whole for them (JIT'd code
    /// holds its value addresses) until the registry is disposed, as Linux frees a map with its last reference.
    /// </summary>
    public bool Close(int fd)
    {
        lock (_lock)
        {
            if (!_byFd.Remove(fd, out var o))
                return false;
            if (o is BpfMap map)
            {
                if (map.ProgramReferences > 0)
                    _retired.Add(map);
                else
                    Free(map);
            }

            return true;
        }
    }

    private void Free(BpfMap map)
    {
        Volatile.Write(ref _bySlot[(map.Pointer - _slots.Address) / SlotSize], null);
        foreach (var region in map.Regions)
            _regions.Remove(region.Start);
        if (map is RingBufMap ring)
            _ringbufs = [.. _ringbufs.Where(r => r != ring)];
        map.Dispose();
    }

    /// <summary>Closes every map, frees the maps programs kept alive, and frees the pointer slots.</summary>
    public void Dispose()
    {
        int[] fds;
        lock (_lock)
            fds = [.. _byFd.Keys];
        foreach (var fd in fds)
            Close(fd);
        lock (_lock)
        {
            foreach (var map in _retired)
                Free(map);
            _retired.Clear();
        }

        _slots.Dispose();
    }
}
