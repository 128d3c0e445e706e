using System.Numerics;

namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c): one multi-producer, single-consumer ring of max_entries bytes
/// (a power of 2 and a multiple of the page size). Every record starts with Linux's 8-byte header: u32 len whose top
/// bits are <see cref="BusyBit"/> (reserved, not yet committed) and <see cref="DiscardBit"/>, then u32 pg_off (the
/// header's page offset from the ring's start, which bpf_ringbuf_submit uses to find the ring from a sample pointer).
/// Records are 8-byte aligned. Reserve follows __bpf_ringbuf_reserve: under the producer lock it advances
/// pending_pos past committed records, and refuses (NULL) a record that would bring producer_pos more than the ring's
/// size past consumer_pos or pending_pos; refusals are counted in <see cref="Dropped"/> (a KernelSim counter: Linux
/// leaves counting to the program). Commit flips the header's len with one atomic exchange.
/// <para>
/// Layout of the native block, as struct bpf_ringbuf: a control page, consumer_pos on its own page, producer_pos
/// and pending_pos on the next, then the data pages. Linux maps the data pages twice in a row so a record that wraps
/// is contiguous; KernelSim allocates the data area twice as long instead, and every record is read and written at
/// its start offset, so the second copy holds exactly the bytes of wrapping records.
/// </para>
/// </summary>
public sealed unsafe class RingBufMap : BpfMap
{
    /// <summary>BPF_RINGBUF_BUSY_BIT.</summary>
    public const uint BusyBit = 1u << 31;

    /// <summary>BPF_RINGBUF_DISCARD_BIT.</summary>
    public const uint DiscardBit = 1u << 30;

    /// <summary>BPF_RINGBUF_HDR_SZ.</summary>
    public const int HeaderSize = 8;

    /// <summary>RINGBUF_MAX_RECORD_SZ: UINT_MAX/4 (the len field's two top bits are flags).</summary>
    public const long MaxRecordSize = uint.MaxValue / 4;

    /// <summary>bpf_ringbuf_output/submit flags.</summary>
    public const ulong BPF_RB_NO_WAKEUP = 1, BPF_RB_FORCE_WAKEUP = 2;

    private const int ControlPages = 3;

    private readonly NativeBlock _block;
    private readonly byte* _data;
    private readonly ulong* _consumerPos;
    private readonly ulong* _producerPos;
    private readonly ulong* _pendingPos;
    private readonly ulong _mask;
    private readonly Lock _producerLock = new();
    private long _dropped;
    private long _wakeups;

    public RingBufMap(MapDefinition definition, int cpus)
        : base(definition, cpus)
    {
        if (definition.Type != BpfMapType.Ringbuf)
            throw new ArgumentException($"RingBufMap cannot hold a {definition.Type} map", nameof(definition));
        var size = definition.MaxEntries;
        if (definition.KeySize != 0 || definition.ValueSize != 0 || size <= 0 ||
            !BitOperations.IsPow2(size) || size % NativeBlock.PageSize != 0)
            throw new MapCreateException(-BpfErrno.EINVAL,
                $"ringbuf map '{definition.Name}': key_size and value_size must be 0, max_entries ({size}) a power of 2 and a multiple of {NativeBlock.PageSize}");
        _block = new NativeBlock(((long)ControlPages * NativeBlock.PageSize) + (2L * size));
        _consumerPos = (ulong*)(_block.Pointer + NativeBlock.PageSize);
        _producerPos = (ulong*)(_block.Pointer + (2 * NativeBlock.PageSize));
        _pendingPos = _producerPos + 1;
        _data = _block.Pointer + (ControlPages * NativeBlock.PageSize);
        _mask = (ulong)size - 1;
        AddRegion((ulong)_data, 2L * size, "data");
    }

    /// <summary>The data area's size in bytes (max_entries).</summary>
    public int Size => MaxEntries;

    /// <summary>Reservations refused because the record did not fit (or was too large).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Commits that would have woken the consumer (its position was at the record, or BPF_RB_FORCE_WAKEUP).</summary>
    public long Wakeups => Interlocked.Read(ref _wakeups);

    /// <summary>consumer_pos (bytes consumed so far).</summary>
    public ulong ConsumerPosition => Volatile.Read(ref *_consumerPos);

    /// <summary>producer_pos (bytes reserved so far).</summary>
    public ulong ProducerPosition => Volatile.Read(ref *_producerPos);

    /// <summary>bpf_ringbuf_query(BPF_RB_AVAIL_DATA): bytes between the consumer and producer positions.</summary>
    public ulong AvailableData => ProducerPosition - ConsumerPosition;

    /// <summary>True when <paramref name="sample"/> points at a record's data inside this ring.</summary>
    public bool ContainsSample(ulong sample)
    {
        var offset = sample - HeaderSize - (ulong)_data;
        return offset <= _mask && (offset & 7) == 0;
    }

    /// <summary>bpf_ringbuf_reserve: a pointer to <paramref name="size"/> writable bytes, or null (counted as a drop).</summary>
    public byte* Reserve(ulong size)
    {
        if (size > MaxRecordSize)
            return Drop();
        var length = (size + HeaderSize + 7) & ~7UL;
        if (length > _mask + 1)
            return Drop();
        lock (_producerLock)
        {
            var consumer = Volatile.Read(ref *_consumerPos);
            var producer = *_producerPos;
            var newProducer = producer + length;
            // Skip committed records so pending_pos marks the oldest record still being written.
            var pending = *_pendingPos;
            while (pending < producer)
            {
                var pendingLen = Volatile.Read(ref *(uint*)(_data + (pending & _mask)));
                if ((pendingLen & BusyBit) != 0)
                    break;
                pending += ((pendingLen & ~DiscardBit) + HeaderSize + 7) & ~7UL;
            }

            *_pendingPos = pending;
            if (newProducer - consumer > _mask || newProducer - pending > _mask)
                return Drop();
            var header = _data + (producer & _mask);
            *(uint*)header = (uint)size | BusyBit;
            *(uint*)(header + 4) = (uint)((header - _block.Pointer) / NativeBlock.PageSize);
            Volatile.Write(ref *_producerPos, newProducer);
            return header + HeaderSize;
        }
    }

    /// <summary>bpf_ringbuf_submit / bpf_ringbuf_discard: commits the record whose data starts at <paramref name="sample"/>.</summary>
    public void Commit(byte* sample, ulong flags, bool discard)
    {
        var header = sample - HeaderSize;
        var length = *(uint*)header;
        var committed = (length & ~BusyBit) | (discard ? DiscardBit : 0);
        Interlocked.Exchange(ref *(uint*)header, committed);
        var recordPos = (ulong)(header - _data);
        // Linux wakes the consumer when it is waiting at this very record, unless told otherwise.
        if ((flags & BPF_RB_FORCE_WAKEUP) != 0 ||
            ((flags & BPF_RB_NO_WAKEUP) == 0 && (ConsumerPosition & _mask) == recordPos))
            Interlocked.Increment(ref _wakeups);
    }

    /// <summary>bpf_ringbuf_output: reserve, copy, submit; 0, -EINVAL for bad flags or -EAGAIN when it does not fit.</summary>
    public long Output(byte* data, ulong size, ulong flags)
    {
        if ((flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) != 0)
            return -BpfErrno.EINVAL;
        var sample = Reserve(size);
        if (sample is null)
            return -BpfErrno.EAGAIN;
        Buffer.MemoryCopy(data, sample, (long)size, (long)size);
        Commit(sample, flags, discard: false);
        return 0;
    }

    /// <summary>
    /// The user-space consumer (libbpf's ring_buffer__consume): hands every committed, non-discarded record to
    /// <paramref name="onRecord"/> in order, skips discarded ones, stops at the first record still being written,
    /// and advances consumer_pos. Returns the number of records handed over.
    /// </summary>
    public int Consume(Action<ReadOnlySpan<byte>> onRecord)
    {
        ArgumentNullException.ThrowIfNull(onRecord);
        var count = 0;
        var consumer = ConsumerPosition;
        while (consumer < ProducerPosition)
        {
            var header = _data + (consumer & _mask);
            var length = Volatile.Read(ref *(uint*)header);
            if ((length & BusyBit) != 0)
                break;
            var size = length & ~DiscardBit;
            if ((length & DiscardBit) == 0)
            {
                onRecord(new ReadOnlySpan<byte>(header + HeaderSize, (int)size));
                count++;
            }

            consumer += (size + HeaderSize + 7) & ~7UL;
            Volatile.Write(ref *_consumerPos, consumer);
        }

        return count;
    }

    private byte* Drop()
    {
        Interlocked.Increment(ref _dropped);
        return null;
    }

    protected override void FreeStorage() => _block.Dispose();
}
