namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_PERF_EVENT_ARRAY (kernel/bpf/arraymap.c + kernel/events/ring_buffer.c): slot i holds a perf event
/// with its own ring buffer, normally one per CPU. User space opens the buffers (<see cref="OpenBuffer"/>, the
/// perf_event_open + mmap + map update libbpf's perf_buffer__new does); programs write with bpf_perf_event_output.
/// A program cannot look up or update slots (the verifier refuses it); max_entries defaults to the CPU count in
/// libbpf, here it is whatever the definition says.
/// </summary>
public sealed unsafe class PerfEventArrayMap : BpfMap
{
    /// <summary>BPF_F_INDEX_MASK and BPF_F_CURRENT_CPU (the same value: "the slot of the current CPU").</summary>
    public const ulong BPF_F_INDEX_MASK = 0xffffffff, BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK;

    /// <summary>BPF_F_CTXLEN_MASK: bits 32-51, the context bytes skb/xdp variants append.</summary>
    public const ulong BPF_F_CTXLEN_MASK = 0xfffffUL << 32;

    private readonly PerfEventBuffer?[] _slots;

    public PerfEventArrayMap(MapDefinition definition, int cpus)
        : base(definition, cpus)
    {
        if (definition.Type != BpfMapType.PerfEventArray)
            throw new ArgumentException($"PerfEventArrayMap cannot hold a {definition.Type} map", nameof(definition));
        if (definition.KeySize != 4 || definition.ValueSize != 4 || definition.MaxEntries <= 0)
            throw new MapCreateException(-BpfErrno.EINVAL, $"perf event array '{definition.Name}': key_size and value_size must be 4, max_entries > 0");
        _slots = new PerfEventBuffer?[definition.MaxEntries];
    }

    /// <summary>Opens a perf buffer of <paramref name="pages"/> data pages (a power of 2) for <paramref name="cpu"/> in slot <paramref name="index"/>.</summary>
    public PerfEventBuffer OpenBuffer(int index, int cpu, int pages = 8)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxEntries);
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, Cpus);
        var buffer = new PerfEventBuffer(cpu, pages);
        Interlocked.Exchange(ref _slots[index], buffer)?.Dispose();
        return buffer;
    }

    /// <summary>The buffer in slot <paramref name="index"/>, or null.</summary>
    public PerfEventBuffer? Buffer(int index) => (uint)index < (uint)MaxEntries ? Volatile.Read(ref _slots[index]) : null;

    /// <summary>
    /// bpf_perf_event_output from <paramref name="cpu"/>: 0; -EINVAL for unknown flag bits; -E2BIG for an index past
    /// max_entries; -ENOENT for an empty slot; -EOPNOTSUPP when the slot's event belongs to another CPU; -ENOSPC when
    /// the buffer is full (the record is lost and counted).
    /// </summary>
    public long Output(int cpu, ulong flags, byte* data, ulong size)
    {
        if ((flags & ~BPF_F_INDEX_MASK) != 0)
            return -BpfErrno.EINVAL;
        var index = flags & BPF_F_INDEX_MASK;
        if (index == BPF_F_CURRENT_CPU)
            index = (ulong)cpu;
        if (index >= (ulong)MaxEntries)
            return -BpfErrno.E2BIG;
        var buffer = Volatile.Read(ref _slots[index]);
        if (buffer is null)
            return -BpfErrno.ENOENT;
        if (buffer.Cpu != cpu)
            return -BpfErrno.EOPNOTSUPP;
        return buffer.WriteSample(data, size);
    }

    public override long Delete(byte* key)
    {
        var index = *(uint*)key;
        if (index >= (uint)MaxEntries)
            return -BpfErrno.E2BIG;
        var old = Interlocked.Exchange(ref _slots[index], null);
        if (old is null)
            return -BpfErrno.ENOENT;
        old.Dispose();
        return 0;
    }

    protected override int UserLookup(byte* key, byte* value) => -BpfErrno.EOPNOTSUPP;

    protected override int NextKey(byte* key, byte* nextKey) => IndexNextKey(key, nextKey);

    protected override void FreeStorage()
    {
        for (var i = 0; i < _slots.Length; i++)
            Interlocked.Exchange(ref _slots[i], null)?.Dispose();
    }
}

/// <summary>
/// One perf event's ring buffer (PERF_SAMPLE_RAW samples): records are a struct perf_event_header (u32 type,
/// u16 misc, u16 size) then, for PERF_RECORD_SAMPLE (9), u32 size and the raw bytes padded so the record is
/// 8-byte aligned. A sample that does not fit is lost: the count is kept and reported as one PERF_RECORD_LOST (2)
/// record (header, u64 id, u64 lost) before the next sample that fits, as perf_output_begin does.
/// </summary>
public sealed unsafe class PerfEventBuffer : IDisposable
{
    /// <summary>PERF_RECORD_LOST and PERF_RECORD_SAMPLE.</summary>
    public const uint PERF_RECORD_LOST = 2, PERF_RECORD_SAMPLE = 9;

    private const int LostRecordSize = 24;

    private readonly NativeBlock _data;
    private readonly ulong _mask;
    private readonly Lock _lock = new();
    private ulong _head;
    private ulong _tail;
    private ulong _pendingLost;
    private long _lostTotal;

    internal PerfEventBuffer(int cpu, int pages)
    {
        if (pages <= 0 || (pages & (pages - 1)) != 0)
            throw new ArgumentException($"perf buffer pages must be a power of 2, got {pages}", nameof(pages));
        Cpu = cpu;
        _data = new NativeBlock((long)pages * NativeBlock.PageSize);
        _mask = (ulong)_data.Length - 1;
    }

    /// <summary>The CPU the event is bound to.</summary>
    public int Cpu { get; }

    /// <summary>Samples lost because the buffer was full.</summary>
    public long Lost => Interlocked.Read(ref _lostTotal);

    /// <summary>Bytes written and not yet consumed.</summary>
    public ulong Pending
    {
        get
        {
            lock (_lock)
                return _head - _tail;
        }
    }

    internal long WriteSample(byte* data, ulong size)
    {
        var raw = (size + 4 + 7) & ~7UL; // u32 size + data, padded
        var total = 8 + raw;
        if (total > ushort.MaxValue)
            return -BpfErrno.E2BIG;
        lock (_lock)
        {
            var lostFirst = _pendingLost != 0 ? (ulong)LostRecordSize : 0;
            if (_data.Pointer is null || _head - _tail + total + lostFirst > _mask + 1)
            {
                _pendingLost++;
                Interlocked.Increment(ref _lostTotal);
                return -BpfErrno.ENOSPC;
            }

            if (lostFirst != 0)
            {
                var lost = stackalloc ulong[3];
                lost[0] = PERF_RECORD_LOST | ((ulong)LostRecordSize << 48);
                lost[1] = 0; // id
                lost[2] = _pendingLost;
                Write((byte*)lost, LostRecordSize);
                _pendingLost = 0;
            }

            var header = stackalloc uint[3];
            header[0] = PERF_RECORD_SAMPLE;
            header[1] = (uint)total << 16; // misc 0, size
            header[2] = (uint)(raw - 4);
            Write((byte*)header, 12);
            Write(data, size);
            var padding = raw - 4 - size;
            var zeros = stackalloc byte[8];
            Write(zeros, padding);
            return 0;
        }
    }

    private void Write(byte* source, ulong length)
    {
        for (ulong i = 0; i < length; i++)
            _data.Pointer[(_head + i) & _mask] = source[i];
        _head += length;
    }

    /// <summary>
    /// perf_buffer__consume for this buffer: each sample's raw bytes (including the padding, as the kernel reports
    /// them) to <paramref name="onSample"/>, each lost record's count to <paramref name="onLost"/>. Returns the
    /// number of records read.
    /// </summary>
    public int Consume(Action<ReadOnlySpan<byte>> onSample, Action<ulong>? onLost = null)
    {
        ArgumentNullException.ThrowIfNull(onSample);
        byte[] record;
        var count = 0;
        while (true)
        {
            lock (_lock)
            {
                if (_tail == _head || _data.Pointer is null)
                    return count;
                var header = new byte[8];
                Read(_tail, header);
                var size = BitConverter.ToUInt16(header, 6);
                record = new byte[size];
                Read(_tail, record);
                _tail += size;
            }

            count++;
            var type = BitConverter.ToUInt32(record, 0);
            if (type == PERF_RECORD_SAMPLE)
                onSample(record.AsSpan(12, (int)BitConverter.ToUInt32(record, 8)));
            else if (type == PERF_RECORD_LOST)
                onLost?.Invoke(BitConverter.ToUInt64(record, 16));
        }
    }

    private void Read(ulong position, byte[] destination)
    {
        for (var i = 0; i < destination.Length; i++)
            destination[i] = _data.Pointer[(position + (ulong)i) & _mask];
    }

    public void Dispose()
    {
        lock (_lock)
            _data.Dispose();
    }
}
