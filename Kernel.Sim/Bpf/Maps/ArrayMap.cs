namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c): max_entries preallocated, zeroed
/// values of round_up(value_size, 8) bytes indexed by a u32 key. Elements cannot be deleted (-EINVAL), BPF_NOEXIST
/// is always -EEXIST, an index past the end -E2BIG. An update copies the value in place: concurrent readers may
/// see a mix of old and new bytes (as in Linux) but never memory outside the element. Per-CPU: one copy of every
/// value per CPU; programs see the current CPU's copy, user space all copies back to back.
/// </summary>
public sealed unsafe class ArrayMap : BpfMap
{
    private readonly NativeBlock _storage;
    private readonly byte* _values;
    private readonly int _elemSize;
    private readonly bool _percpu;

    public ArrayMap(MapDefinition definition, int cpus)
        : base(definition, cpus)
    {
        if (definition.Type is not (BpfMapType.Array or BpfMapType.PercpuArray))
            throw new ArgumentException($"ArrayMap cannot hold a {definition.Type} map", nameof(definition));
        if (definition.KeySize != 4 || definition.ValueSize <= 0 || definition.MaxEntries <= 0)
            throw new MapCreateException(-BpfErrno.EINVAL, $"array map '{definition.Name}': key_size must be 4, value_size and max_entries > 0");
        _percpu = definition.Type == BpfMapType.PercpuArray;
        _elemSize = RoundUp8(definition.ValueSize);
        var copies = _percpu ? cpus : 1;
        _storage = new NativeBlock((long)_elemSize * definition.MaxEntries * copies);
        _values = _storage.Pointer;
        AddRegion(_storage.Address, _storage.Length, "values");
    }

    /// <summary>Address of element 0 (for CPU 0): what <c>lddw rX, map_value[fd]+off</c> resolves to, plus off.</summary>
    public ulong ValuesAddress => (ulong)_values;

    /// <summary>Distance between consecutive elements.</summary>
    public int ElementSize => _elemSize;

    public override int UserValueSize => _percpu ? _elemSize * Cpus : ValueSize;

    public override byte* Lookup(byte* key, int cpu)
    {
        var index = *(uint*)key;
        if (index >= (uint)MaxEntries || (uint)cpu >= (uint)Cpus)
            return null;
        return _values + (((long)(_percpu ? cpu : 0) * MaxEntries) + index) * _elemSize;
    }

    public override long Update(byte* key, byte* value, ulong flags, int cpu)
    {
        var check = BpfUpdateFlags.Check(flags);
        if (check != 0)
            return check;
        var index = *(uint*)key;
        if (index >= (uint)MaxEntries)
            return -BpfErrno.E2BIG;
        if (flags == BpfUpdateFlags.BPF_NOEXIST)
            return -BpfErrno.EEXIST; // every element always exists
        var target = Lookup(key, cpu);
        if (target is null)
            return -BpfErrno.EINVAL;
        Buffer.MemoryCopy(value, target, ValueSize, ValueSize);
        return 0;
    }

    public override long Delete(byte* key) => -BpfErrno.EINVAL;

    protected override int UserLookup(byte* key, byte* value)
    {
        var index = *(uint*)key;
        if (index >= (uint)MaxEntries)
            return -BpfErrno.ENOENT;
        if (!_percpu)
            return base.UserLookup(key, value);
        for (var cpu = 0; cpu < Cpus; cpu++)
            Buffer.MemoryCopy(Lookup(key, cpu), value + ((long)cpu * _elemSize), _elemSize, _elemSize);
        return 0;
    }

    protected override int UserUpdate(byte* key, byte* value, ulong flags)
    {
        if (!_percpu)
            return (int)Update(key, value, flags, 0);
        for (var cpu = 0; cpu < Cpus; cpu++)
        {
            var rc = Update(key, value + ((long)cpu * _elemSize), flags, cpu);
            if (rc != 0)
                return (int)rc;
        }

        return 0;
    }

    protected override int NextKey(byte* key, byte* nextKey) => IndexNextKey(key, nextKey);

    protected override void FreeStorage() => _storage.Dispose();
}
