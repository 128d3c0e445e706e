using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_HASH, PERCPU_HASH and LRU_HASH (kernel/bpf/hashtab.c with preallocated elements, the default).
/// <para>
/// Layout: roundup_pow_of_two(max_entries) buckets, each a singly linked chain of element indices ending in a
/// "nulls" marker that names the bucket (hlist_nulls); a preallocated pool of elements in one native block
/// (header, key, value). Lookups walk a chain without locks and restart when they end on another bucket's marker
/// (the element they followed was moved, as Linux's nulls lists detect). Updates and deletes take the bucket's
/// spin lock. An update of an existing key in a plain or LRU hash links a new element before unlinking the old one,
/// so a concurrent lookup sees the old or the new value, never a mix; a per-CPU hash updates the CPU's copy in place
/// (as Linux does). A deleted element returns to the free pool and may be reused at once, so a program still
/// holding its value pointer can see it change (Linux's prealloc behaviour); the memory stays valid either way.
/// </para>
/// <para>
/// Full: a plain or per-CPU hash with max_entries live keys answers a new key with -E2BIG; the pool holds
/// spare elements (one per CPU and one for user space, like Linux's per-CPU extra_elems) so replacing an existing
/// key never fails. An LRU hash never reports full: it evicts (see <see cref="LruList"/>).
/// </para>
/// </summary>
public sealed unsafe class HashMap : BpfMap
{
    // Element header: next index or nulls marker (4), hash (4). Key and value follow, each 8-aligned.
    private const int HeaderSize = 8;

    private readonly NativeBlock _pool;
    private readonly NativeBlock _buckets;
    private readonly byte* _elems;
    private readonly int* _heads;
    private readonly int* _locks;
    private readonly int _elemSize;
    private readonly int _keyOffset;
    private readonly int _valueOffset;
    private readonly int _valueStride;
    private readonly uint _mask;
    private readonly bool _percpu;
    private readonly LruList? _lru;

    // Free element indices (a pcpu_freelist in Linux; one locked stack here).
    private readonly int[] _free;
    private readonly Lock _freeLock = new();
    private int _freeCount;
    private int _count;

    public HashMap(MapDefinition definition, int cpus)
        : base(definition, cpus)
    {
        if (definition.Type is not (BpfMapType.Hash or BpfMapType.PercpuHash or BpfMapType.LruHash))
            throw new ArgumentException($"HashMap cannot hold a {definition.Type} map", nameof(definition));
        if (definition.KeySize <= 0 || definition.ValueSize <= 0 || definition.MaxEntries <= 0)
            throw new MapCreateException(-BpfErrno.EINVAL, $"hash map '{definition.Name}': key_size, value_size and max_entries must be > 0");
        if (definition.KeySize > 512)
            throw new MapCreateException(-BpfErrno.E2BIG, $"hash map '{definition.Name}': key_size {definition.KeySize} exceeds MAX_BPF_STACK");
        _percpu = definition.Type == BpfMapType.PercpuHash;
        var buckets = (int)BitOperations.RoundUpToPowerOf2((uint)definition.MaxEntries);
        _mask = (uint)buckets - 1;
        _keyOffset = HeaderSize;
        _valueOffset = HeaderSize + RoundUp8(definition.KeySize);
        _valueStride = RoundUp8(definition.ValueSize);
        _elemSize = _valueOffset + (_valueStride * (_percpu ? cpus : 1));
        var elements = definition.Type == BpfMapType.LruHash ? definition.MaxEntries : definition.MaxEntries + cpus + 1;
        _pool = new NativeBlock((long)_elemSize * elements);
        _elems = _pool.Pointer;
        _buckets = new NativeBlock((long)buckets * 2 * sizeof(int));
        _heads = (int*)_buckets.Pointer;
        _locks = _heads + buckets;
        for (var b = 0; b < buckets; b++)
            _heads[b] = ~b;
        if (definition.Type == BpfMapType.LruHash)
        {
            _lru = new LruList(this, elements, Math.Clamp(definition.MaxEntries / cpus, 1, LruList.LocalNrScans));
            _free = [];
        }
        else
        {
            _free = new int[elements];
            for (var i = 0; i < elements; i++)
                _free[i] = elements - 1 - i;
            _freeCount = elements;
        }

        // Programs get value pointers into the pool; the whole pool is one region (deleted elements included,
        // as their memory stays mapped in Linux too).
        AddRegion(_pool.Address, _pool.Length, "elements");
    }

    /// <summary>Live elements (a snapshot under concurrency).</summary>
    public int Count => _lru is null ? Volatile.Read(ref _count) : _lru.InUse;

    /// <summary>Elements evicted by the LRU so far (0 for other types).</summary>
    public long Evictions => _lru?.Evictions ?? 0;

    public override int UserValueSize => _percpu ? _valueStride * Cpus : ValueSize;

    public override byte* Lookup(byte* key, int cpu)
    {
        var index = Find(key, Hash(key));
        if (index < 0 || (uint)cpu >= (uint)Cpus)
            return null;
        // bpf_lru_node_set_ref: a plain store, no lock (the LRU reads it when it next rotates).
        _lru?.SetRef(index);
        return Value(index, _percpu ? cpu : 0);
    }

    public override long Update(byte* key, byte* value, ulong flags, int cpu) =>
        (uint)cpu < (uint)Cpus ? UpdateCore(key, value, flags, cpu) : -BpfErrno.EINVAL;

    public override long Delete(byte* key)
    {
        var hash = Hash(key);
        var bucket = (int)(hash & _mask);
        int found;
        LockBucket(bucket);
        try
        {
            found = FindLocked(bucket, hash, key);
            if (found >= 0)
                Unlink(bucket, found);
        }
        finally
        {
            UnlockBucket(bucket);
        }

        if (found < 0)
            return -BpfErrno.ENOENT;
        Release(found, live: true);
        return 0;
    }

    protected override int UserLookup(byte* key, byte* value)
    {
        var index = Find(key, Hash(key));
        if (index < 0)
            return -BpfErrno.ENOENT;
        if (!_percpu)
        {
            Buffer.MemoryCopy(Value(index, 0), value, ValueSize, ValueSize);
            return 0;
        }

        for (var c = 0; c < Cpus; c++)
            Buffer.MemoryCopy(Value(index, c), value + ((long)c * _valueStride), _valueStride, _valueStride);
        return 0;
    }

    // cpu -1: user space, which writes every CPU's copy of a per-CPU value.
    protected override int UserUpdate(byte* key, byte* value, ulong flags) => (int)UpdateCore(key, value, flags, -1);

    protected override int NextKey(byte* key, byte* nextKey)
    {
        var bucket = 0;
        if (key is not null)
        {
            var hash = Hash(key);
            var index = Find(key, hash);
            if (index >= 0)
            {
                var next = Volatile.Read(ref Next(index));
                if (next >= 0)
                    return CopyKey(next, nextKey);
                bucket = (int)(hash & _mask) + 1;
            }
        }

        // A key that is not there (or was the last of its bucket) continues with the next non-empty bucket;
        // an unknown key restarts from the first, as htab_map_get_next_key does.
        for (; bucket <= (int)_mask; bucket++)
        {
            var head = Volatile.Read(ref _heads[bucket]);
            if (head >= 0)
                return CopyKey(head, nextKey);
        }

        return -BpfErrno.ENOENT;
    }

    private long UpdateCore(byte* key, byte* value, ulong flags, int cpu)
    {
        var check = BpfUpdateFlags.Check(flags);
        if (check != 0)
            return check;
        var hash = Hash(key);
        var bucket = (int)(hash & _mask);
        // The LRU takes its element (evicting if it must) before the bucket lock, as htab_lru_map_update_elem
        // does, so the LRU lock and bucket locks are never held in the other order.
        var fresh = -1;
        if (_lru is not null)
        {
            fresh = _lru.Pop();
            if (fresh < 0)
                return -BpfErrno.ENOMEM;
        }

        int old;
        LockBucket(bucket);
        try
        {
            old = FindLocked(bucket, hash, key);
            var error = old >= 0 && flags == BpfUpdateFlags.BPF_NOEXIST ? -BpfErrno.EEXIST
                : old < 0 && flags == BpfUpdateFlags.BPF_EXIST ? -BpfErrno.ENOENT
                : 0;
            if (error != 0)
            {
                if (fresh >= 0)
                    _lru!.Free(fresh);
                return error;
            }

            if (_percpu && old >= 0)
            {
                // htab_percpu_map_update_elem: the existing element's copy is overwritten in place.
                CopyValue(old, value, cpu);
                return 0;
            }

            if (fresh < 0)
            {
                if (old < 0 && Interlocked.Increment(ref _count) > MaxEntries)
                {
                    Interlocked.Decrement(ref _count);
                    return -BpfErrno.E2BIG;
                }

                fresh = PopFree();
                if (fresh < 0)
                {
                    if (old < 0)
                        Interlocked.Decrement(ref _count);
                    return -BpfErrno.E2BIG;
                }
            }

            var elem = Elem(fresh);
            *(uint*)(elem + 4) = hash;
            Buffer.MemoryCopy(key, elem + _keyOffset, KeySize, KeySize);
            if (_percpu)
                NativeMemoryClear(elem + _valueOffset, _valueStride * Cpus);
            CopyValue(fresh, value, cpu);
            // Publish: the element is complete before the bucket head points at it.
            Next(fresh) = Volatile.Read(ref _heads[bucket]);
            Volatile.Write(ref _heads[bucket], fresh);
            if (old >= 0)
                Unlink(bucket, old);
        }
        finally
        {
            UnlockBucket(bucket);
        }

        if (old >= 0)
            Release(old, live: false);
        return 0;
    }

    private void CopyValue(int index, byte* value, int cpu)
    {
        if (cpu >= 0 || !_percpu)
        {
            Buffer.MemoryCopy(value, Value(index, _percpu ? cpu : 0), ValueSize, ValueSize);
            return;
        }

        for (var c = 0; c < Cpus; c++)
            Buffer.MemoryCopy(value + ((long)c * _valueStride), Value(index, c), _valueStride, _valueStride);
    }

    /// <summary>Called by the LRU under its lock: removes an element chosen for eviction if it is still in the table.</summary>
    internal bool DeleteNode(int index)
    {
        var bucket = (int)(*(uint*)(Elem(index) + 4) & _mask);
        LockBucket(bucket);
        try
        {
            var at = Volatile.Read(ref _heads[bucket]);
            while (at >= 0 && at != index)
                at = Next(at);
            if (at != index)
                return false;
            Unlink(bucket, index);
            return true;
        }
        finally
        {
            UnlockBucket(bucket);
        }
    }

    private int Find(byte* key, uint hash)
    {
        var bucket = (int)(hash & _mask);
        while (true)
        {
            var index = Volatile.Read(ref _heads[bucket]);
            while (index >= 0)
            {
                var elem = Elem(index);
                if (*(uint*)(elem + 4) == hash && KeyEquals(elem + _keyOffset, key))
                    return index;
                index = Volatile.Read(ref Next(index));
            }

            // Ended on another bucket's marker: an element we followed moved chains. Walk again.
            if (index == ~bucket)
                return -1;
        }
    }

    private int FindLocked(int bucket, uint hash, byte* key)
    {
        var index = _heads[bucket];
        while (index >= 0)
        {
            var elem = Elem(index);
            if (*(uint*)(elem + 4) == hash && KeyEquals(elem + _keyOffset, key))
                return index;
            index = Next(index);
        }

        return -1;
    }

    // Under the bucket lock. The removed element keeps its next link, so a reader standing on it walks on.
    private void Unlink(int bucket, int index)
    {
        ref var link = ref _heads[bucket];
        while (link != index)
            link = ref Next(link);
        Volatile.Write(ref link, Next(index));
    }

    private void Release(int index, bool live)
    {
        if (_lru is not null)
        {
            _lru.Free(index);
            return;
        }

        if (live)
            Interlocked.Decrement(ref _count);
        lock (_freeLock)
            _free[_freeCount++] = index;
    }

    private int PopFree()
    {
        lock (_freeLock)
            return _freeCount == 0 ? -1 : _free[--_freeCount];
    }

    private int CopyKey(int index, byte* destination)
    {
        Buffer.MemoryCopy(Elem(index) + _keyOffset, destination, KeySize, KeySize);
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Elem(int index) => _elems + ((long)index * _elemSize);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref int Next(int index) => ref *(int*)Elem(index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Value(int index, int cpu) => Elem(index) + _valueOffset + ((long)cpu * _valueStride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool KeyEquals(byte* a, byte* b) =>
        KeySize switch
        {
            4 => *(uint*)a == Unsafe.ReadUnaligned<uint>(b),
            8 => *(ulong*)a == Unsafe.ReadUnaligned<ulong>(b),
            _ => new ReadOnlySpan<byte>(a, KeySize).SequenceEqual(new ReadOnlySpan<byte>(b, KeySize)),
        };

    // A 64-bit multiply-xorshift mix over 8-byte words (Linux uses jhash; any good mix gives the same semantics).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Hash(byte* key)
    {
        var h = 0x9E3779B97F4A7C15UL ^ (ulong)KeySize;
        var i = 0;
        for (; i + 8 <= KeySize; i += 8)
            h = (h ^ Unsafe.ReadUnaligned<ulong>(key + i)) * 0xff51afd7ed558ccdUL;
        if (i + 4 <= KeySize)
        {
            h = (h ^ Unsafe.ReadUnaligned<uint>(key + i)) * 0xc4ceb9fe1a85ec53UL;
            i += 4;
        }

        for (; i < KeySize; i++)
            h = (h ^ key[i]) * 0x100000001b3UL;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 29;
        return (uint)h;
    }

    private void LockBucket(int bucket)
    {
        if (Interlocked.CompareExchange(ref _locks[bucket], 1, 0) == 0)
            return;
        var spin = default(SpinWait);
        while (Interlocked.CompareExchange(ref _locks[bucket], 1, 0) != 0)
            spin.SpinOnce();
    }

    private void UnlockBucket(int bucket) => Volatile.Write(ref _locks[bucket], 0);

    private static void NativeMemoryClear(byte* p, int length) => new Span<byte>(p, length).Clear();

    protected override void FreeStorage()
    {
        _pool.Dispose();
        _buckets.Dispose();
    }
}
