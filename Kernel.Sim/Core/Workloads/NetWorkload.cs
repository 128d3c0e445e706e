using System.Runtime.InteropServices;

namespace Kernel.Sim.Core.Workloads;

/// <summary>
/// The few <c>struct sk_buff</c> fields the mini network workload uses, at x86-64 Linux offsets where it matters for
/// probes (<c>len</c> at 112, so <c>+112(%di):u32</c> reads it as on a real kernel).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 232)]
public struct MiniSkb
{
    [FieldOffset(0)] public ulong next;
    [FieldOffset(8)] public ulong prev;
    [FieldOffset(16)] public ulong dev;
    [FieldOffset(112)] public uint len;
    [FieldOffset(116)] public uint data_len;
    [FieldOffset(180)] public ushort protocol;
    [FieldOffset(192)] public ulong head;
    [FieldOffset(200)] public ulong data;
}

/// <summary>
/// A mini receive path in softirq context on the idle task:
/// <c>netif_receive_skb → __netif_receive_skb → __netif_receive_skb_core → ip_rcv → (ip_rcv_core, ip_rcv_finish →
/// ip_local_deliver → udp_rcv)</c>. The packet path (issue 7) supersedes it with the real thing.
/// </summary>
public sealed unsafe class NetWorkload : IKernelWorkload
{
    private KernelCore? _core;
    private KernelFunction? _netifReceiveSkb, _netifReceiveSkbInner, _netifReceiveSkbCore, _ipRcv, _ipRcvCore, _ipRcvFinish, _ipLocalDeliver, _udpRcv;
    private MiniSkb* _skb;
    private ulong _dev;
    private ulong _pollReturn;

    public string Name => "net";

    public string Description => "a mini IPv4/UDP receive path (softirq context)";

    public void Install(KernelCore core)
    {
        ArgumentNullException.ThrowIfNull(core);
        _core = core;
        _skb = core.Memory.Allocate<MiniSkb>("net/skb");
        var dev = core.Memory.Allocate("net/eth0", 64);
        "eth0"u8.CopyTo(new Span<byte>((void*)dev.Start, 16));
        _dev = dev.Start;
        var data = core.Memory.Allocate("net/skb_data", 2048);
        _skb->head = data.Start;
        _skb->data = data.Start + 64;
        _skb->dev = _dev;
        // The caller of netif_receive_skb: a NAPI poll routine, a text symbol that is not hooked.
        _pollReturn = core.Symbols.AddText("process_backlog", 0x190).Address + 0xd4;
        var f = core.Functions;
        _udpRcv = f.Define("int udp_rcv(struct sk_buff *skb)", (ref PtRegs r) => { Cpu.Advance(150); return 0; }, 0x20);
        _ipLocalDeliver = f.Define("int ip_local_deliver(struct sk_buff *skb)", (ref PtRegs r) =>
        {
            Cpu.Advance(80);
            return _udpRcv.Call(_ipLocalDeliver!.At(0x8e), r.di);
        }, 0x110);
        _ipRcvFinish = f.Define("int ip_rcv_finish(struct net *net, struct sock *sk, struct sk_buff *skb)", (ref PtRegs r) =>
        {
            Cpu.Advance(70);
            return _ipLocalDeliver.Call(_ipRcvFinish!.At(0x63), r.dx);
        }, 0xc0);
        _ipRcvCore = f.Define("struct sk_buff *ip_rcv_core(struct sk_buff *skb, struct net *net)", (ref PtRegs r) =>
        {
            Cpu.Advance(90);
            return ((MiniSkb*)r.di)->len >= 20 ? r.di : 0;
        }, 0x3a0);
        _ipRcv = f.Define("int ip_rcv(struct sk_buff *skb, struct net_device *dev, struct packet_type *pt, struct net_device *orig_dev)", (ref PtRegs r) =>
        {
            Cpu.Advance(40);
            var skb = _ipRcvCore.Call(_ipRcv!.At(0x2e), r.di, 0);
            return skb == 0 ? 1 /* NET_RX_DROP */ : _ipRcvFinish.Call(_ipRcv.At(0x5c), 0, 0, skb);
        }, 0x1a0);
        _netifReceiveSkbCore = f.Define("int __netif_receive_skb_core(struct sk_buff **pskb, bool pfmemalloc, struct packet_type **ppt_prev)", (ref PtRegs r) =>
        {
            Cpu.Advance(110);
            var skb = *(MiniSkb**)r.di;
            return _ipRcv.Call(_netifReceiveSkbCore!.At(0x3f5), (ulong)skb, skb->dev, 0, skb->dev);
        }, 0xe80);
        _netifReceiveSkbInner = f.Define("int __netif_receive_skb(struct sk_buff *skb)", (ref PtRegs r) =>
        {
            Cpu.Advance(30);
            var pskb = stackalloc ulong[1];
            pskb[0] = r.di;
            return _netifReceiveSkbCore.Call(_netifReceiveSkbInner!.At(0x32), (ulong)pskb, 0, 0);
        }, 0x80);
        _netifReceiveSkb = f.Define("int netif_receive_skb(struct sk_buff *skb)", (ref PtRegs r) =>
        {
            Cpu.Advance(25);
            return _netifReceiveSkbInner.Call(_netifReceiveSkb!.At(0x2c), r.di);
        }, 0x90);
    }

    private SimulatedCpu Cpu => _core!.Cpus.RequireCurrent();

    public void Run(SimulatedCpu cpu, int iterations)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        using var softirq = cpu.Enter(CpuContext.SoftIrq);
        var previous = cpu.CurrentTask;
        cpu.CurrentTask = cpu.Idle;
        try
        {
            for (var i = 0; i < iterations; i++)
            {
                cpu.Advance(2000);
                _skb->len = (uint)(60 + (i % 8) * 100);
                _skb->protocol = 0x0008; // htons(ETH_P_IP)
                _netifReceiveSkb!.Call(_pollReturn, (ulong)_skb);
            }
        }
        finally
        {
            cpu.CurrentTask = previous;
        }
    }
}
