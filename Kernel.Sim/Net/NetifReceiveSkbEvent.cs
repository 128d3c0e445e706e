using Kernel.Sim.Tracing.Bpf;

namespace Kernel.Sim.Net;

/// <summary>
/// The tracepoint <c>net:netif_receive_skb</c> (include/trace/events/net.h, class net_dev_template), fired in
/// <c>__netif_receive_skb_core</c> with TP_PROTO <c>(struct sk_buff *skb)</c>: its record (skbaddr, len and the
/// device name as a <c>__data_loc</c> string), the TP_printk of Linux, and one definition that serves tracefs
/// (<c>events/net/netif_receive_skb/…</c>, entries such as <c>netif_receive_skb: dev=eth0 skbaddr=0x… len=84</c>),
/// <c>tracepoint/net/netif_receive_skb</c> and <c>raw_tracepoint/netif_receive_skb</c> BPF programs.
/// </summary>
public static unsafe class NetifReceiveSkbEvent
{
    /// <summary>The record's fields, as Linux's format file lists them.</summary>
    public static IReadOnlyList<TracepointField> Fields { get; } =
    [
        new("void *", "skbaddr", 8),
        new("unsigned int", "len", 4),
        TracepointField.String("name", NetDeviceStruct.NameSize),
    ];

    // The index of "name" in Fields: the hit path sets the string without a name lookup.
    private const int NameField = 2;

    /// <summary>TP_printk as include/trace/events/net.h writes it.</summary>
    public const string PrintFormat = "\"dev=%s skbaddr=%p len=%u\", __get_str(name), REC->skbaddr, REC->len";

    /// <summary>Defines the tracepoint in <paramref name="tracepoints"/> (idempotent).</summary>
    public static Tracepoint Define(Tracepoints tracepoints)
    {
        ArgumentNullException.ThrowIfNull(tracepoints);
        return tracepoints.Define("net", "netif_receive_skb", ["struct sk_buff *skb"], Fields, Assign, PrintFormat);
    }

    /// <summary>TP_fast_assign: skbaddr = skb, len = skb->len, __assign_str(name, skb->dev->name).</summary>
    private static void Assign(ReadOnlySpan<ulong> args, ref TracepointRecord record)
    {
        var skb = (SkBuff*)args[0];
        var fields = record.Fields;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(fields, (ulong)skb);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(fields[8..], skb->len);
        var dev = (NetDeviceStruct*)skb->dev;
        record.SetString(NameField, new ReadOnlySpan<byte>(dev->name, NetDeviceStruct.NameSize));
    }
}
