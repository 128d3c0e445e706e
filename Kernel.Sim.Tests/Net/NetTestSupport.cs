using System.Buffers.Binary;
using Kernel.Sim.Core;
using Kernel.Sim.Cpu;
using Kernel.Sim.Hosting;
using Kernel.Sim.Net;

namespace Kernel.Sim.Tests.Net;

/// <summary>A kernel with a receive path, and frames built for tests.</summary>
internal sealed class NetTestBed : IDisposable
{
    public NetTestBed(int cpus = 1, DispatchStrategy strategy = DispatchStrategy.Retpoline, bool tap = false, CostModel? model = null)
    {
        Kernel = new SimulatedKernel(new KernelSimOptions { Cpus = cpus });
        Stack = new NetStack(Kernel.Core, new NetStackOptions { Strategy = strategy, PacketTap = tap, Model = model }, Kernel.Tracing);
    }

    public SimulatedKernel Kernel { get; }

    public NetStack Stack { get; }

    /// <summary>Receives one frame and runs the softirq of the CPU RSS chose.</summary>
    public void Receive(byte[] frame)
    {
        var queue = Stack.Receive(frame);
        Assert.That(queue, Is.GreaterThanOrEqualTo(0), "ring full");
        Kernel.Core.Cpus[queue].Run(() => Stack.NetRxAction());
    }

    public long this[NetCounter c] => Stack.Counters[c];

    /// <summary>The first frame the generator makes for <paramref name="mix"/>.</summary>
    public static byte[] Frame(string mix, ulong seed = 7)
    {
        var buffer = new byte[TrafficGenerator.MaxFrame];
        var n = new TrafficGenerator(TrafficMix.Parse(mix + ",size=128"), seed).Next(buffer);
        return buffer[..n];
    }

    /// <summary>Applies a named change to a frame (IPv4/IPv6 header fields, the L4 checksum, the port), fixing the IPv4 header checksum unless the change is to break it.</summary>
    public static byte[] Mutate(byte[] frame, string mutation)
    {
        var ip = frame.AsSpan(14);
        var v6 = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == NetConst.EthPIpv6;
        var l4 = ip[(v6 ? 40 : 20)..];
        var proto = v6 ? ip[6] : ip[9];
        switch (mutation)
        {
            case "none":
                return frame;
            case "ip-csum":
                ip[10] ^= 0x11;
                return frame;
            case "ip-version":
                ip[0] = 0x65;
                break;
            case "ip-ihl":
                ip[0] = 0x44;
                break;
            case "ip-totlen":
                BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(ip[2..]) + 200));
                break;
            case "ip-daddr":
                ip[19] = 99;
                break;
            case "ip-proto-gre":
                ip[9] = NetConst.IpProtoGre;
                break;
            case "l4-csum":
                l4[proto == NetConst.IpProtoTcp ? 16 : proto == NetConst.IpProtoUdp ? 6 : 2] ^= 0x21;
                return frame;
            case "dport-closed":
                // Keep the L4 checksum valid: adjust it by the port's change (RFC 1624).
                var old = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
                BinaryPrimitives.WriteUInt16BigEndian(l4[2..], TrafficGenerator.ClosedPort);
                var at = proto == NetConst.IpProtoTcp ? 16 : 6;
                var sum = (uint)(ushort)~BinaryPrimitives.ReadUInt16BigEndian(l4[at..]) + (ushort)~old + TrafficGenerator.ClosedPort;
                sum = (sum & 0xFFFF) + (sum >> 16);
                sum = (sum & 0xFFFF) + (sum >> 16);
                BinaryPrimitives.WriteUInt16BigEndian(l4[at..], (ushort)~sum);
                return frame;
            case "ip6-version":
                ip[0] = 0x40;
                return frame;
            case "ip6-plen":
                BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(ip[4..]) + 100));
                return frame;
            case "ip6-daddr":
                ip[39] = 0x77;
                return frame;
            default:
                throw new ArgumentException($"unknown mutation {mutation}", nameof(mutation));
        }

        ip[10] = ip[11] = 0;
        var ihl = Math.Max(5, ip[0] & 0xF) * 4;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InetChecksum.Compute(ip[..ihl]));
        return frame;
    }

    public void Dispose() => Kernel.Dispose();
}
