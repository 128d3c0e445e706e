using System.Buffers.Binary;

namespace Kernel.Sim.Net;

/// <summary>One captured frame: its timestamp and bytes (as captured; <see cref="OriginalLength"/> was on the wire).</summary>
public sealed record CapturedFrame(long TimestampNs, byte[] Data, int OriginalLength);

/// <summary>A capture file could not be read; the message names the file and the byte offset.</summary>
public sealed class PcapFormatException(string message) : Exception(message);

/// <summary>
/// Reads classic pcap (micro- and nanosecond magic, either byte order) and pcapng (SHB, IDB, EPB, SPB, OPB blocks,
/// either byte order, several sections) files with Ethernet link type, and writes classic pcap. Written here because
/// the maintained .NET option, SharpPcap, reads files through native libpcap (pcap_open_offline), which this
/// machine does not have, and PacketDotNet parses packets but reads no files.
/// </summary>
public static class PcapFile
{
    /// <summary>LINKTYPE_ETHERNET.</summary>
    public const int LinkTypeEthernet = 1;

    private const uint PcapMagicMicro = 0xA1B2C3D4;
    private const uint PcapMagicNano = 0xA1B23C4D;
    private const uint PcapngSectionHeader = 0x0A0D0D0A;
    private const uint PcapngByteOrderMagic = 0x1A2B3C4D;

    /// <summary>Reads every frame of a pcap or pcapng file.</summary>
    public static IReadOnlyList<CapturedFrame> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = File.ReadAllBytes(path);
        return Read(bytes, path);
    }

    /// <summary>Reads every frame of a pcap or pcapng image (<paramref name="name"/> is used in errors).</summary>
    public static IReadOnlyList<CapturedFrame> Read(ReadOnlySpan<byte> file, string name = "<memory>")
    {
        if (file.Length < 4)
            throw new PcapFormatException($"{name}: {file.Length} bytes is too short for a capture file");
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(file);
        if (magic == PcapngSectionHeader)
            return ReadPcapng(file, name);
        if (magic is PcapMagicMicro or PcapMagicNano
            || BinaryPrimitives.ReverseEndianness(magic) is PcapMagicMicro or PcapMagicNano)
            return ReadPcap(file, name);
        throw new PcapFormatException($"{name}: offset 0: magic 0x{magic:x8} is neither pcap nor pcapng");
    }

    /// <summary>Writes frames as a little-endian nanosecond pcap with Ethernet link type.</summary>
    public static void Write(Stream output, IEnumerable<CapturedFrame> frames, int snapLength = 262144)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(frames);
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, PcapMagicNano);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], snapLength);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], LinkTypeEthernet);
        output.Write(header);
        Span<byte> record = stackalloc byte[16];
        foreach (var frame in frames)
        {
            var caplen = Math.Min(frame.Data.Length, snapLength);
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(frame.TimestampNs / 1_000_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)(frame.TimestampNs % 1_000_000_000));
            BinaryPrimitives.WriteInt32LittleEndian(record[8..], caplen);
            BinaryPrimitives.WriteInt32LittleEndian(record[12..], Math.Max(frame.OriginalLength, caplen));
            output.Write(record);
            output.Write(frame.Data, 0, caplen);
        }
    }

    private static List<CapturedFrame> ReadPcap(ReadOnlySpan<byte> file, string name)
    {
        if (file.Length < 24)
            throw new PcapFormatException($"{name}: offset 0: truncated pcap file header ({file.Length} of 24 bytes)");
        var little = BinaryPrimitives.ReadUInt32LittleEndian(file) is PcapMagicMicro or PcapMagicNano;
        var magic = U32(file, little);
        var nano = magic == PcapMagicNano;
        var linkType = U32(file[20..], little) & 0x0FFF_FFFF;
        if (linkType != LinkTypeEthernet)
            throw new PcapFormatException($"{name}: offset 20: link type {linkType} is not Ethernet (1)");
        var frames = new List<CapturedFrame>();
        var at = 24;
        while (at < file.Length)
        {
            if (file.Length - at < 16)
                throw new PcapFormatException($"{name}: offset {at}: truncated record header");
            var seconds = U32(file[at..], little);
            var fraction = U32(file[(at + 4)..], little);
            var caplen = U32(file[(at + 8)..], little);
            var origlen = U32(file[(at + 12)..], little);
            if (caplen > 262144 || caplen > file.Length - at - 16)
                throw new PcapFormatException($"{name}: offset {at + 8}: captured length {caplen} runs past the end of the file");
            var ns = (seconds * 1_000_000_000L) + (nano ? fraction : fraction * 1000L);
            frames.Add(new CapturedFrame(ns, file.Slice(at + 16, (int)caplen).ToArray(), (int)origlen));
            at += 16 + (int)caplen;
        }

        return frames;
    }

    private static List<CapturedFrame> ReadPcapng(ReadOnlySpan<byte> file, string name)
    {
        var frames = new List<CapturedFrame>();
        var interfaces = new List<(int LinkType, long TicksPerSecond)>();
        var little = true;
        var at = 0;
        while (at < file.Length)
        {
            if (file.Length - at < 12)
                throw new PcapFormatException($"{name}: offset {at}: truncated pcapng block header");
            var type = BinaryPrimitives.ReadUInt32LittleEndian(file[at..]);
            if (type == PcapngSectionHeader)
            {
                var bom = BinaryPrimitives.ReadUInt32LittleEndian(file[(at + 8)..]);
                little = bom == PcapngByteOrderMagic;
                if (!little && BinaryPrimitives.ReverseEndianness(bom) != PcapngByteOrderMagic)
                    throw new PcapFormatException($"{name}: offset {at + 8}: bad byte-order magic 0x{bom:x8}");
                interfaces.Clear();
            }
            else
            {
                type = U32(file[at..], little);
            }

            var length = U32(file[(at + 4)..], little);
            if (length < 12 || length % 4 != 0 || length > file.Length - at)
                throw new PcapFormatException($"{name}: offset {at + 4}: block length {length} is invalid");
            var body = file.Slice(at + 8, (int)length - 12);
            switch (type)
            {
                case 1: // Interface Description Block
                    if (body.Length < 8)
                        throw new PcapFormatException($"{name}: offset {at}: truncated interface description block");
                    interfaces.Add((U16(body, little), TicksPerSecond(body[8..], little)));
                    break;
                case 6: // Enhanced Packet Block
                {
                    if (body.Length < 20)
                        throw new PcapFormatException($"{name}: offset {at}: truncated enhanced packet block");
                    var id = (int)U32(body, little);
                    if (id >= interfaces.Count)
                        throw new PcapFormatException($"{name}: offset {at + 8}: packet names interface {id}, but {interfaces.Count} are described");
                    var (linkType, ticks) = interfaces[id];
                    if (linkType != LinkTypeEthernet)
                        throw new PcapFormatException($"{name}: offset {at}: interface {id} has link type {linkType}, not Ethernet (1)");
                    var timestamp = ((ulong)U32(body[4..], little) << 32) | U32(body[8..], little);
                    var caplen = U32(body[12..], little);
                    var origlen = U32(body[16..], little);
                    if (caplen > body.Length - 20)
                        throw new PcapFormatException($"{name}: offset {at + 20}: captured length {caplen} runs past the block");
                    var ns = (long)(timestamp / (ulong)ticks * 1_000_000_000UL) + (long)(timestamp % (ulong)ticks * 1_000_000_000UL / (ulong)ticks);
                    frames.Add(new CapturedFrame(ns, body.Slice(20, (int)caplen).ToArray(), (int)origlen));
                    break;
                }

                case 3: // Simple Packet Block: interface 0, no timestamp
                {
                    if (interfaces.Count == 0 || interfaces[0].LinkType != LinkTypeEthernet)
                        throw new PcapFormatException($"{name}: offset {at}: simple packet block without an Ethernet interface 0");
                    var origlen = (int)U32(body, little);
                    var caplen = Math.Min(origlen, body.Length - 4);
                    frames.Add(new CapturedFrame(0, body.Slice(4, caplen).ToArray(), origlen));
                    break;
                }

                default:
                    break; // name resolution, statistics, custom blocks: nothing the replay needs
            }

            at += (int)length;
        }

        return frames;
    }

    // if_tsresol: 10^-n (high bit clear) or 2^-n (high bit set); microseconds when absent.
    private static long TicksPerSecond(ReadOnlySpan<byte> options, bool little)
    {
        var at = 0;
        while (at + 4 <= options.Length)
        {
            var code = U16(options[at..], little);
            var length = U16(options[(at + 2)..], little);
            if (code == 0)
                break;
            if (code == 9 && length >= 1 && at + 4 < options.Length)
            {
                var v = options[at + 4];
                return (v & 0x80) != 0 ? 1L << Math.Min(62, v & 0x7F) : (long)Math.Pow(10, Math.Min(18, (int)v));
            }

            at += 4 + ((length + 3) & ~3);
        }

        return 1_000_000;
    }

    private static uint U32(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);

    private static int U16(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
}
