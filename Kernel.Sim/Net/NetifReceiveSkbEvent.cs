using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Kernel.Sim.Core;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Net;

/// <summary>
/// The tracepoint <c>net:netif_receive_skb</c> (include/trace/events/net.h, class net_dev_template), fired in
/// <c>__netif_receive_skb_core</c>. Entries print as <c>netif_receive_skb: dev=eth0 skbaddr=0x… len=84</c> — the
/// pointer in the <c>0x</c> form trace-cmd and perf print (the kernel's own <c>trace</c> file hashes <c>%p</c>).
/// </summary>
public sealed unsafe class NetifReceiveSkbEvent : ITracepoint
{
    private readonly TraceArray _trace;
    private long _hits;

    internal NetifReceiveSkbEvent(TraceArray trace, int id)
    {
        _trace = trace;
        Id = id;
    }

    public int Id { get; }

    public string Group => "net";

    public string Name => "netif_receive_skb";

    /// <summary>events/net/netif_receive_skb/enable.</summary>
    public bool Enabled { get; set; }

    /// <inheritdoc/>
    public IReadOnlyList<TraceEventField> Fields { get; } =
    [
        new("skbaddr", 8, 8, false),
        new("len", 16, 4, false),
        new("name", 20, 4, false, IsString: true),
    ];

    /// <inheritdoc/>
    public Tracing.ProbeEvents.EventFilter? Filter { get; set; }

    /// <summary>Entries written.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Writes one entry: common header, skbaddr, len, and the device name (a __data_loc string).</summary>
    public void Emit(SimulatedCpu cpu, SkBuff* skb)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        Span<byte> entry = stackalloc byte[24 + NetDeviceStruct.NameSize];
        BinaryPrimitives.WriteInt32LittleEndian(entry, Id);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], (ulong)skb);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[16..], skb->len);
        var dev = (NetDeviceStruct*)skb->dev;
        var name = new ReadOnlySpan<byte>(dev->name, NetDeviceStruct.NameSize);
        var n = name.IndexOf((byte)0);
        n = n < 0 ? NetDeviceStruct.NameSize - 1 : n;
        // __data_loc: offset in the low 16 bits, length (with NUL) in the high 16.
        BinaryPrimitives.WriteUInt32LittleEndian(entry[20..], (uint)(24 | ((n + 1) << 16)));
        name[..n].CopyTo(entry[24..]);
        entry[24 + n] = 0;
        if (Filter is { } filter && !filter.Matches(entry[..(24 + n + 1)], cpu.CurrentTask.Pid))
            return;
        if (_trace.Write(cpu, TraceEntryType.ProbeEvent, entry[..(24 + n + 1)]))
            Interlocked.Increment(ref _hits);
    }

    /// <inheritdoc/>
    public string Format(TraceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var p = record.Payload;
        var skbaddr = BinaryPrimitives.ReadUInt64LittleEndian(p.AsSpan(8));
        var len = BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(16));
        var loc = BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(20));
        var offset = (int)(loc & 0xFFFF);
        var length = (int)(loc >> 16);
        var name = Encoding.ASCII.GetString(p, offset, Math.Max(0, length - 1));
        return string.Create(CultureInfo.InvariantCulture, $"netif_receive_skb: dev={name} skbaddr=0x{skbaddr:x} len={len}");
    }

    /// <summary>events/net/netif_receive_skb/format, as Linux writes it.</summary>
    public string FormatFile() => string.Create(CultureInfo.InvariantCulture, $"""
        name: netif_receive_skb
        ID: {Id}
        format:
        	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
        	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
        	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
        	field:int common_pid;	offset:4;	size:4;	signed:1;

        	field:void * skbaddr;	offset:8;	size:8;	signed:0;
        	field:unsigned int len;	offset:16;	size:4;	signed:0;
        	field:__data_loc char[] name;	offset:20;	size:4;	signed:0;

        print fmt: "dev=%s skbaddr=%p len=%u", __get_str(name), REC->skbaddr, REC->len

        """);
}
