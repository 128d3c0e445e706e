using System.Buffers.Binary;
using Kernel.Sim.Core;

namespace Kernel.Sim.Net;

/// <summary>What the NIC's receive descriptor reports besides the length (the hardware's checksum verdict).</summary>
[Flags]
public enum RxStatus : byte
{
    None = 0,

    /// <summary>The hardware verified the TCP/UDP/ICMPv6 checksum: the driver sets CHECKSUM_UNNECESSARY.</summary>
    L4ChecksumGood = 1,

    /// <summary>The hardware found a bad L4 checksum: the driver leaves CHECKSUM_NONE and the stack finds the error.</summary>
    L4ChecksumBad = 2,
}

/// <summary>One rx queue: a descriptor ring of DMA buffers in kernel memory, its NAPI context, and its IRQ's CPU.</summary>
public sealed unsafe class RxQueue
{
    private readonly int[] _length;
    private readonly RxStatus[] _status;
    private readonly uint[] _hash;
    private long _head;
    private long _tail;

    // Ring slots of _head and _tail, wrapped by compare: a 64-bit modulo per descriptor costs more than the rest of
    // the ring bookkeeping.
    private int _headSlot;
    private int _tailSlot;

    internal RxQueue(KernelMemory memory, string device, int index, int size)
    {
        Index = index;
        Size = size;
        _length = new int[size];
        _status = new RxStatus[size];
        _hash = new uint[size];
        Buffers = memory.Allocate($"{device}/rxq{index}/buffers", (ulong)size * SimulatedNic.BufferSize, 4096);
        var napi = memory.Allocate($"{device}/rxq{index}/napi", 64);
        Napi = napi.Start;
        *(int*)Napi = index;
        *(int*)(Napi + 4) = NetConst.NapiPollWeight;
    }

    /// <summary>Queue number (also the CPU its interrupt is affine to).</summary>
    public int Index { get; }

    /// <summary>Descriptors in the ring.</summary>
    public int Size { get; }

    /// <summary>The DMA buffers, <see cref="SimulatedNic.BufferSize"/> bytes per descriptor.</summary>
    public MemoryRegion Buffers { get; }

    /// <summary>Address of this queue's <c>struct napi_struct</c> (int index at 0, int weight at 4).</summary>
    public ulong Napi { get; }

    /// <summary>Descriptors written by the NIC and not yet polled.</summary>
    public int Pending => (int)(_tail - _head);

    /// <summary>The NIC's DMA: writes a frame into the next free descriptor; false when the ring is full (rx_missed_errors).</summary>
    public bool Dma(ReadOnlySpan<byte> frame, uint hash, RxStatus status)
    {
        if (_tail - _head >= Size || frame.Length > SimulatedNic.BufferSize - SimulatedNic.Headroom)
            return false;
        var slot = _tailSlot;
        _tailSlot = slot + 1 == Size ? 0 : slot + 1;
        frame.CopyTo(new Span<byte>((void*)(Buffers.Start + ((ulong)slot * SimulatedNic.BufferSize) + SimulatedNic.Headroom), frame.Length));
        _length[slot] = frame.Length;
        _status[slot] = status;
        _hash[slot] = hash;
        _tail++;
        return true;
    }

    /// <summary>Takes the oldest written descriptor: its buffer (start of the DMA area), frame length, status and hash.</summary>
    internal bool TryTake(out ulong buffer, out int length, out RxStatus status, out uint hash)
    {
        if (_head == _tail)
        {
            buffer = 0;
            length = 0;
            status = RxStatus.None;
            hash = 0;
            return false;
        }

        var slot = _headSlot;
        _headSlot = slot + 1 == Size ? 0 : slot + 1;
        _head++;
        buffer = Buffers.Start + ((ulong)slot * SimulatedNic.BufferSize);
        length = _length[slot];
        status = _status[slot];
        hash = _hash[slot];
        return true;
    }
}

/// <summary>
/// A simulated multi-queue Ethernet NIC (driver <c>simnic</c>): one rx ring per CPU, RSS spreading flows by a Toeplitz
/// hash, rx checksum offload for TCP/UDP/ICMPv6. The driver side (NAPI poll, XDP) lives in <see cref="NetStack"/>.
/// </summary>
public sealed class SimulatedNic
{
    /// <summary>Bytes per rx buffer (half a page, as many drivers split pages).</summary>
    public const int BufferSize = 2048;

    /// <summary>XDP_PACKET_HEADROOM: room in front of the frame for XDP and the skb headers.</summary>
    public const int Headroom = 256;

    public SimulatedNic(KernelMemory memory, string name, int queues, int ringSize = 256)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentOutOfRangeException.ThrowIfLessThan(queues, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ringSize, NetConst.NapiPollWeight);
        Name = name;
        Rss = new Rss(queues);
        Queues = [.. Enumerable.Range(0, queues).Select(i => new RxQueue(memory, name, i, ringSize))];
    }

    public string Name { get; }

    public Rss Rss { get; }

    public IReadOnlyList<RxQueue> Queues { get; }

    /// <summary>
    /// What rx checksum offload reports for <paramref name="frame"/>: Good or Bad for TCP/UDP over a well-formed IPv4
    /// or IPv6 header and for ICMPv6, None otherwise (the stack checks those itself).
    /// </summary>
    public static RxStatus ChecksumOffload(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < NetConst.EthHlen + 20)
            return RxStatus.None;
        var type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        var ip = frame[NetConst.EthHlen..];
        if (type == NetConst.EthPIp)
        {
            var ihl = (ip[0] & 0xF) * 4;
            if ((ip[0] >> 4) != 4 || ihl < 20 || ip.Length < ihl || InetChecksum.Compute(ip[..ihl]) != 0)
                return RxStatus.None;
            var total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
            var proto = ip[9];
            if (total > ip.Length || total < ihl || proto is not (NetConst.IpProtoTcp or NetConst.IpProtoUdp))
                return RxStatus.None;
            var l4 = ip[ihl..total];
            var sum = InetChecksum.Partial(l4, InetChecksum.PseudoV4(ip[12..], ip[16..], proto, l4.Length));
            return InetChecksum.Fold(sum) == 0 ? RxStatus.L4ChecksumGood : RxStatus.L4ChecksumBad;
        }

        if (type == NetConst.EthPIpv6 && ip.Length >= 40 && (ip[0] >> 4) == 6)
        {
            var payload = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
            var next = ip[6];
            if (40 + payload > ip.Length || next is not (NetConst.IpProtoTcp or NetConst.IpProtoUdp or NetConst.IpProtoIcmpv6))
                return RxStatus.None;
            var l4 = ip.Slice(40, payload);
            var sum = InetChecksum.Partial(l4, InetChecksum.PseudoV6(ip[8..], ip[24..], next, l4.Length));
            return InetChecksum.Fold(sum) == 0 ? RxStatus.L4ChecksumGood : RxStatus.L4ChecksumBad;
        }

        return RxStatus.None;
    }
}
