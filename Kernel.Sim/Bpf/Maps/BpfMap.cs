using Kernel.Sim.Bpf.Interpreter;

namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// One map of a <see cref="BpfMapRegistry"/>: native storage, the operations programs reach through helpers
/// (raw pointers, the current CPU, negative errno results as the kernel's map_ops return them) and the operations
/// user space reaches through the bpf() syscall (spans, libbpf's <c>bpf_map_*_elem</c> return convention).
/// Every operation is safe to call from several threads at once; see each map type for its guarantees.
/// </summary>
public abstract unsafe class BpfMap : IDisposable
{
    private readonly List<MemoryRegion> _regions = [];
    private bool _disposed;
    private bool _frozen;

    protected BpfMap(MapDefinition definition, int cpus)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cpus);
        Definition = definition;
        Cpus = cpus;
    }

    /// <summary>Type, key_size, value_size, max_entries and name as created.</summary>
    public MapDefinition Definition { get; }

    /// <summary>The map type.</summary>
    public BpfMapType Type => Definition.Type;

    /// <summary>key_size.</summary>
    public int KeySize => Definition.KeySize;

    /// <summary>value_size.</summary>
    public int ValueSize => Definition.ValueSize;

    /// <summary>max_entries.</summary>
    public int MaxEntries => Definition.MaxEntries;

    /// <summary>The number of possible CPUs the map was created for (per-CPU values, perf buffers).</summary>
    public int Cpus { get; }

    /// <summary>The file descriptor in its registry.</summary>
    public int Fd { get; internal set; }

    /// <summary>The map pointer (what <c>lddw rX, map[fd]</c> loads and helpers take as their first argument).</summary>
    public ulong Pointer { get; internal set; }

    /// <summary>
    /// Loaded programs that use the map (their map references resolved to it). As in Linux, where a program holds a
    /// reference on each of its maps, closing the map's fd does not free what such a program can still reach.
    /// </summary>
    public int ProgramReferences => Volatile.Read(ref _programReferences);

    private int _programReferences;

    /// <summary>Counts one more loaded program using the map (<see cref="MapReferences.Resolve"/>).</summary>
    internal void AddProgramReference() => Interlocked.Increment(ref _programReferences);

    /// <summary>
    /// Bytes of a value as user space reads and writes it: value_size, or for per-CPU maps
    /// round_up(value_size, 8) times the number of CPUs, as the bpf() syscall does.
    /// </summary>
    public virtual int UserValueSize => ValueSize;

    /// <summary>map_flags as created.</summary>
    public BpfMapFlags Flags { get; internal set; }

    /// <summary>True after <see cref="Freeze"/> (BPF_MAP_FREEZE): user space can no longer change the map.</summary>
    public bool IsFrozen => Volatile.Read(ref _frozen);

    /// <summary>
    /// The native ranges programs may touch (value storage), registered in the subsystem's region table; read-only
    /// for a BPF_F_RDONLY_PROG map.
    /// </summary>
    public IReadOnlyList<MemoryRegion> Regions =>
        (Flags & BpfMapFlags.RdonlyProg) == 0 ? _regions : [.. _regions.Select(r => r with { Writable = false })];

    /// <summary>True when programs may not change the map (BPF_F_RDONLY_PROG): its helpers answer -EPERM.</summary>
    public bool ReadOnlyForPrograms => (Flags & BpfMapFlags.RdonlyProg) != 0;

    /// <summary>BPF_MAP_FREEZE, as libbpf does to .rodata after initialising it.</summary>
    public void Freeze() => Volatile.Write(ref _frozen, true);

    /// <summary>True once disposed (storage freed).</summary>
    public bool IsDisposed => _disposed;

    // ---- The program side (helpers). Keys and values are raw pointers the caller has checked.

    /// <summary>map_lookup_elem: the value for <paramref name="key"/> on <paramref name="cpu"/>, or null.</summary>
    public virtual byte* Lookup(byte* key, int cpu) => null;

    /// <summary>map_update_elem from a program on <paramref name="cpu"/>: 0 or a negative errno.</summary>
    public virtual long Update(byte* key, byte* value, ulong flags, int cpu) => -BpfErrno.EINVAL;

    /// <summary>map_delete_elem: 0 or a negative errno.</summary>
    public virtual long Delete(byte* key) => -BpfErrno.EINVAL;

    // ---- The user-space side (the bpf() syscall's BPF_MAP_*_ELEM commands).

    private bool UserMayWrite => !IsFrozen && (Flags & BpfMapFlags.Rdonly) == 0;

    /// <summary>BPF_MAP_LOOKUP_ELEM: copies the value (all CPUs for per-CPU maps) into <paramref name="value"/>; 0 or -ENOENT.</summary>
    public int LookupElem(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        CheckValue(value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
            return UserLookup(k, v);
    }

    /// <summary>BPF_MAP_UPDATE_ELEM with BPF_ANY, BPF_NOEXIST or BPF_EXIST: 0 or a negative errno.</summary>
    public int UpdateElem(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = BpfUpdateFlags.BPF_ANY)
    {
        CheckKey(key);
        CheckValue(value.Length);
        if (!UserMayWrite)
            return -BpfErrno.EPERM;
        fixed (byte* k = key)
        fixed (byte* v = value)
            return UserUpdate(k, v, flags);
    }

    /// <summary>BPF_MAP_DELETE_ELEM: 0 or a negative errno.</summary>
    public int DeleteElem(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        if (!UserMayWrite)
            return -BpfErrno.EPERM;
        fixed (byte* k = key)
            return (int)Delete(k);
    }

    /// <summary>
    /// BPF_MAP_GET_NEXT_KEY: the key after <paramref name="key"/> (an empty span asks for the first key) in
    /// <paramref name="nextKey"/>; 0, or -ENOENT after the last key.
    /// </summary>
    public int GetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (!key.IsEmpty)
            CheckKey(key);
        if (nextKey.Length != KeySize)
            throw new ArgumentException($"next key must be key_size={KeySize} bytes, got {nextKey.Length}", nameof(nextKey));
        fixed (byte* k = key)
        fixed (byte* n = nextKey)
            return NextKey(key.IsEmpty ? null : k, n);
    }

    /// <summary>All keys in get_next_key order (user-space iteration as bpftool does it).</summary>
    public IEnumerable<byte[]> Keys()
    {
        var key = Array.Empty<byte>();
        var next = new byte[KeySize];
        // Bounded by max_entries + 1 so a map changing under iteration cannot make this loop forever.
        for (var i = 0; i <= MaxEntries && GetNextKey(key, next) == 0; i++)
        {
            key = (byte[])next.Clone();
            yield return key;
        }
    }

    protected virtual int UserLookup(byte* key, byte* value)
    {
        var p = Lookup(key, 0);
        if (p is null)
            return -BpfErrno.ENOENT;
        Buffer.MemoryCopy(p, value, ValueSize, ValueSize);
        return 0;
    }

    protected virtual int UserUpdate(byte* key, byte* value, ulong flags) => (int)Update(key, value, flags, 0);

    protected virtual int NextKey(byte* key, byte* nextKey) => -BpfErrno.EINVAL;

    /// <summary>
    /// get_next_key of the index-keyed maps (array_map_get_next_key): no key or an index past the end restarts at
    /// 0, the last index is -ENOENT, anything else is followed by index + 1.
    /// </summary>
    protected int IndexNextKey(byte* key, byte* nextKey)
    {
        var index = key is null ? uint.MaxValue : *(uint*)key;
        if (index >= (uint)MaxEntries)
        {
            *(uint*)nextKey = 0;
            return 0;
        }

        if (index == (uint)MaxEntries - 1)
            return -BpfErrno.ENOENT;
        *(uint*)nextKey = index + 1;
        return 0;
    }

    /// <summary>Registers a native range programs may touch.</summary>
    protected void AddRegion(ulong start, long length, string what) =>
        _regions.Add(new MemoryRegion(start, (ulong)length, Writable: true, $"{what} of map '{Definition.Name}' ({Type})"));

    private void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
            throw new ArgumentException($"key must be key_size={KeySize} bytes, got {key.Length}", nameof(key));
    }

    private void CheckValue(int length)
    {
        if (length != UserValueSize)
            throw new ArgumentException($"value must be {UserValueSize} bytes for map '{Definition.Name}' ({Type}), got {length}", "value");
    }

    protected static int RoundUp8(int size) => (size + 7) & ~7;

    /// <summary>Frees the native storage.</summary>
    protected abstract void FreeStorage();

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        FreeStorage();
        GC.SuppressFinalize(this);
    }
}
