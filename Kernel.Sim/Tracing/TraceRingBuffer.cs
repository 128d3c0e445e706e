using System.Buffers.Binary;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing;

/// <summary>Entry types stored in the ring buffer (struct trace_entry's type).</summary>
public enum TraceEntryType : ushort
{
    Padding = 0,
    /// <summary>TRACE_FN: ip, parent_ip.</summary>
    Function = 1,
    /// <summary>TRACE_GRAPH_ENT: ip, depth.</summary>
    GraphEntry = 2,
    /// <summary>TRACE_GRAPH_RET: ip, depth, calltime, rettime.</summary>
    GraphReturn = 3,
    /// <summary>A probe event; the payload starts with the event id.</summary>
    ProbeEvent = 4,
}

/// <summary>TRACE_FLAG_* bits of an entry's flags byte.</summary>
[Flags]
public enum TraceEntryFlags : byte
{
    None = 0,
    IrqsOff = 0x01,
    NeedResched = 0x04,
    HardIrq = 0x08,
    SoftIrq = 0x10,
    Nmi = 0x40,
    BhOff = 0x80,
}

/// <summary>One entry read out of the buffer: struct trace_entry's common fields and the payload bytes.</summary>
public sealed record TraceRecord(int Cpu, TraceEntryType Type, TraceEntryFlags Flags, byte PreemptCount, int Pid, long TimestampNs, byte[] Payload);

/// <summary>
/// The per-CPU ring buffers of a trace instance. Each CPU's buffer is a byte ring of <see cref="SizeKb"/> KiB holding
/// variable-length entries (24-byte header + payload, 8-byte aligned). In overwrite mode a full buffer drops its oldest
/// entries (counted as overrun; entries-written = in buffer + overrun); in discard mode (overwrite off) the new entry
/// is dropped and counted. Writers on a CPU take that CPU's lock, uncontended except against readers.
/// </summary>
public sealed class TraceRingBuffer
{
    /// <summary>Bytes of the entry header.</summary>
    public const int HeaderSize = 24;

    /// <summary>Linux's default buffer_size_kb.</summary>
    public const int DefaultSizeKb = 1408;

    private CpuBuffer[] _cpus;

    public TraceRingBuffer(int cpus, int sizeKb = DefaultSizeKb)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sizeKb, 1);
        SizeKb = sizeKb;
        _cpus = Enumerable.Range(0, cpus).Select(_ => new CpuBuffer(sizeKb * 1024)).ToArray();
    }

    /// <summary>buffer_size_kb (per CPU).</summary>
    public int SizeKb { get; private set; }

    /// <summary>The <c>overwrite</c> trace option: true (default) overwrites the oldest, false discards the newest.</summary>
    public bool Overwrite { get; set; } = true;

    /// <summary>Number of CPU buffers.</summary>
    public int CpuCount => _cpus.Length;

    /// <summary>Resizes every CPU buffer (contents are cleared, as a resize of an active buffer loses data here).</summary>
    public void Resize(int sizeKb)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sizeKb, 1);
        SizeKb = sizeKb;
        Volatile.Write(ref _cpus, _cpus.Select(_ => new CpuBuffer(sizeKb * 1024)).ToArray());
    }

    /// <summary>Writes one entry on <paramref name="cpu"/>'s buffer. False when discarded.</summary>
    public bool Write(int cpu, TraceEntryType type, TraceEntryFlags flags, byte preemptCount, int pid, long timestampNs, ReadOnlySpan<byte> payload) =>
        _cpus[cpu].Write(Overwrite, type, flags, preemptCount, pid, timestampNs, payload);

    /// <summary>Empties every buffer and resets the counters (writing to the <c>trace</c> file).</summary>
    public void Reset()
    {
        foreach (var buffer in _cpus)
            buffer.Reset();
    }

    /// <summary>Copies out a CPU's entries, oldest first, without consuming them.</summary>
    public IReadOnlyList<TraceRecord> Snapshot(int cpu) => _cpus[cpu].Snapshot(cpu);

    /// <summary>Consumes the oldest entry of a CPU (trace_pipe); <paramref name="lost"/> is how many were overwritten unread before it.</summary>
    public bool TryConsume(int cpu, out TraceRecord? record, out long lost) => _cpus[cpu].TryConsume(cpu, out record, out lost);

    /// <summary>The oldest entry of a CPU without consuming it.</summary>
    public TraceRecord? Peek(int cpu) => _cpus[cpu].Peek(cpu);

    /// <summary>Counters of one CPU (per_cpu/cpuN/stats).</summary>
    public RingBufferStats Stats(int cpu) => _cpus[cpu].Stats();

    /// <summary>Sum of <see cref="RingBufferStats.Entries"/> over CPUs.</summary>
    public long Entries => _cpus.Sum(c => c.Stats().Entries);

    /// <summary>entries-written: what is in the buffers plus what overwriting lost.</summary>
    public long EntriesWritten => _cpus.Sum(c => { var s = c.Stats(); return s.Entries + s.Overrun; });

    private sealed class CpuBuffer(int capacity)
    {
        private readonly Lock _lock = new();
        private readonly byte[] _data = new byte[capacity];
        private int _head;
        private int _tail;
        private int _used;
        private long _entries;
        private long _overrun;
        private long _dropped;
        private long _read;
        private long _lostUnread;
        private long _oldestTs;

        public bool Write(bool overwrite, TraceEntryType type, TraceEntryFlags flags, byte preempt, int pid, long ts, ReadOnlySpan<byte> payload)
        {
            var length = (HeaderSize + payload.Length + 7) & ~7;
            lock (_lock)
            {
                if (length > _data.Length / 2)
                {
                    _dropped++;
                    return false;
                }

                int at;
                while (!TryPlace(length, out at))
                {
                    if (!overwrite || _entries == 0)
                    {
                        _dropped++;
                        return false;
                    }

                    EvictOldest();
                }

                var slot = _data.AsSpan(at, length);
                BinaryPrimitives.WriteInt32LittleEndian(slot, length);
                BinaryPrimitives.WriteUInt16LittleEndian(slot[4..], (ushort)type);
                slot[6] = (byte)flags;
                slot[7] = preempt;
                BinaryPrimitives.WriteInt32LittleEndian(slot[8..], pid);
                BinaryPrimitives.WriteInt32LittleEndian(slot[12..], 0);
                BinaryPrimitives.WriteInt64LittleEndian(slot[16..], ts);
                payload.CopyTo(slot[HeaderSize..]);
                slot[(HeaderSize + payload.Length)..].Clear();
                _tail = at + length;
                if (_tail == _data.Length)
                    _tail = 0;
                _used += length;
                _entries++;
                return true;
            }
        }

        private bool TryPlace(int length, out int at)
        {
            at = 0;
            if (_used == 0)
            {
                _head = _tail = 0;
                return length <= _data.Length;
            }

            if (_tail > _head || (_tail == _head && _used == 0))
            {
                if (_data.Length - _tail >= length)
                {
                    at = _tail;
                    return true;
                }

                if (_head >= length)
                {
                    // Pad the end and wrap; the pad is owned by the buffer until the head passes it.
                    var pad = _data.Length - _tail;
                    if (pad >= 8)
                    {
                        BinaryPrimitives.WriteInt32LittleEndian(_data.AsSpan(_tail), pad);
                        BinaryPrimitives.WriteUInt16LittleEndian(_data.AsSpan(_tail + 4), 0);
                    }

                    _used += pad;
                    _tail = 0;
                    at = 0;
                    return true;
                }

                return false;
            }

            if (_tail < _head && _head - _tail >= length)
            {
                at = _tail;
                return true;
            }

            return false;
        }

        private int LengthAt(int offset, out bool padding)
        {
            var remaining = _data.Length - offset;
            if (remaining < 8)
            {
                padding = true;
                return remaining;
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan(offset));
            padding = BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(offset + 4)) == 0;
            return length;
        }

        private void SkipPadding()
        {
            while (_used > 0)
            {
                var length = LengthAt(_head, out var padding);
                if (!padding)
                    return;
                Advance(length);
            }
        }

        private void Advance(int length)
        {
            _head += length;
            if (_head >= _data.Length)
                _head = 0;
            _used -= length;
        }

        private void EvictOldest()
        {
            SkipPadding();
            if (_entries == 0)
                return;
            var length = LengthAt(_head, out _);
            Advance(length);
            _entries--;
            _overrun++;
            _lostUnread++;
            SkipPadding();
        }

        public IReadOnlyList<TraceRecord> Snapshot(int cpu)
        {
            lock (_lock)
            {
                var records = new List<TraceRecord>((int)_entries);
                var offset = _head;
                var used = _used;
                while (used > 0)
                {
                    var length = LengthAt(offset, out var padding);
                    if (!padding)
                        records.Add(Decode(cpu, offset, length));
                    offset += length;
                    if (offset >= _data.Length)
                        offset = 0;
                    used -= length;
                }

                return records;
            }
        }

        public TraceRecord? Peek(int cpu)
        {
            lock (_lock)
            {
                SkipPadding();
                return _entries == 0 ? null : Decode(cpu, _head, LengthAt(_head, out _));
            }
        }

        public bool TryConsume(int cpu, out TraceRecord? record, out long lost)
        {
            lock (_lock)
            {
                SkipPadding();
                lost = _lostUnread;
                _lostUnread = 0;
                if (_entries == 0)
                {
                    record = null;
                    return false;
                }

                var length = LengthAt(_head, out _);
                record = Decode(cpu, _head, length);
                Advance(length);
                _entries--;
                _read++;
                SkipPadding();
                return true;
            }
        }

        private TraceRecord Decode(int cpu, int offset, int length)
        {
            var slot = _data.AsSpan(offset, length);
            _oldestTs = BinaryPrimitives.ReadInt64LittleEndian(slot[16..]);
            return new TraceRecord(
                cpu,
                (TraceEntryType)BinaryPrimitives.ReadUInt16LittleEndian(slot[4..]),
                (TraceEntryFlags)slot[6],
                slot[7],
                BinaryPrimitives.ReadInt32LittleEndian(slot[8..]),
                BinaryPrimitives.ReadInt64LittleEndian(slot[16..]),
                slot[HeaderSize..].ToArray());
        }

        public void Reset()
        {
            lock (_lock)
            {
                _head = _tail = _used = 0;
                _entries = _overrun = _dropped = _read = _lostUnread = 0;
            }
        }

        public RingBufferStats Stats()
        {
            lock (_lock)
                return new RingBufferStats(_entries, _overrun, _dropped, _read, _used, _data.Length);
        }
    }
}

/// <summary>One CPU buffer's counters, with the names of per_cpu/cpuN/stats.</summary>
/// <param name="Entries">Entries in the buffer now.</param>
/// <param name="Overrun">Entries lost to overwriting.</param>
/// <param name="DroppedEvents">Entries refused in discard mode (or too large).</param>
/// <param name="ReadEvents">Entries consumed through trace_pipe.</param>
/// <param name="Bytes">Bytes in use.</param>
/// <param name="Capacity">Buffer size in bytes.</param>
public sealed record RingBufferStats(long Entries, long Overrun, long DroppedEvents, long ReadEvents, long Bytes, long Capacity);
