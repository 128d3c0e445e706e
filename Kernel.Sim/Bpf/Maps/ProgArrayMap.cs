namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_PROG_ARRAY: slot i holds a program (user space stores a program fd, reading back gives its id in
/// Linux, its fd here); bpf_tail_call jumps to it. key_size and value_size are 4. Programs cannot update it
/// (the verifier refuses); user space updates and deletes slots, which are swapped atomically so a tail call sees the
/// old or the new program.
/// </summary>
public sealed unsafe class ProgArrayMap : BpfMap
{
    private readonly BpfMapRegistry _registry;
    private readonly IBpfProgram?[] _programs;
    private readonly int[] _fds;

    internal ProgArrayMap(MapDefinition definition, int cpus, BpfMapRegistry registry)
        : base(definition, cpus)
    {
        if (definition.Type != BpfMapType.ProgArray)
            throw new ArgumentException($"ProgArrayMap cannot hold a {definition.Type} map", nameof(definition));
        if (definition.KeySize != 4 || definition.ValueSize != 4 || definition.MaxEntries <= 0)
            throw new MapCreateException(-BpfErrno.EINVAL, $"prog array '{definition.Name}': key_size and value_size must be 4, max_entries > 0");
        _registry = registry;
        _programs = new IBpfProgram?[definition.MaxEntries];
        _fds = new int[definition.MaxEntries];
    }

    /// <summary>The program in slot <paramref name="index"/>, or null (what bpf_tail_call looks at).</summary>
    public IBpfProgram? Get(ulong index) => index < (ulong)_programs.Length ? Volatile.Read(ref _programs[index]) : null;

    /// <summary>Puts the program with fd <paramref name="programFd"/> in slot <paramref name="index"/>: 0, -E2BIG or -EBADF-like -EINVAL.</summary>
    public int Set(int index, int programFd)
    {
        if ((uint)index >= (uint)MaxEntries)
            return -BpfErrno.E2BIG;
        var program = _registry.Program(programFd);
        if (program is null)
            return -BpfErrno.EINVAL;
        _fds[index] = programFd;
        Volatile.Write(ref _programs[index], program);
        return 0;
    }

    public override long Delete(byte* key)
    {
        var index = *(uint*)key;
        if (index >= (uint)MaxEntries)
            return -BpfErrno.E2BIG;
        return Interlocked.Exchange(ref _programs[index], null) is null ? -BpfErrno.ENOENT : 0;
    }

    // A program updates nothing here (the verifier refuses map_update_elem on a prog array).
    public override long Update(byte* key, byte* value, ulong flags, int cpu) => -BpfErrno.EINVAL;

    protected override int UserUpdate(byte* key, byte* value, ulong flags)
    {
        var check = BpfUpdateFlags.Check(flags);
        if (check != 0)
            return (int)check;
        var index = *(uint*)key;
        if (index >= (uint)MaxEntries)
            return -BpfErrno.E2BIG;
        if (flags == BpfUpdateFlags.BPF_NOEXIST)
            return -BpfErrno.EEXIST;
        return Set((int)index, *(int*)value);
    }

    protected override int UserLookup(byte* key, byte* value)
    {
        var index = *(uint*)key;
        if (index >= (uint)MaxEntries || Volatile.Read(ref _programs[index]) is null)
            return -BpfErrno.ENOENT;
        *(int*)value = _fds[index];
        return 0;
    }

    protected override int NextKey(byte* key, byte* nextKey) => IndexNextKey(key, nextKey);

    protected override void FreeStorage() => Array.Clear(_programs);
}
