using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kernel.Sim.Calls;
using Kernel.Sim.Core;
using Kernel.Sim.Cpu;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Net;

/// <summary>How a <see cref="NetStack"/> is built.</summary>
public sealed class NetStackOptions
{
    /// <summary>How every indirect call site of the path dispatches.</summary>
    public DispatchStrategy Strategy { get; set; } = DispatchStrategy.Retpoline;

    /// <summary>The cost model the path charges when it is enabled (null: no modelled cycles).</summary>
    public CostModel? Model { get; set; }

    /// <summary>Descriptors per rx ring.</summary>
    public int RingSize { get; set; } = 256;

    /// <summary>sk_buffs in each CPU's cache.</summary>
    public int SkbCacheSize { get; set; } = 256;

    /// <summary>Registers an AF_PACKET tap (<c>packet_rcv</c> on ptype_all) at start.</summary>
    public bool PacketTap { get; set; }

    /// <summary>The interface name.</summary>
    public string DeviceName { get; set; } = "eth0";
}

/// <summary>One <c>struct packet_type</c> registered with <see cref="NetStack.DevAddPack"/>.</summary>
public sealed unsafe class PacketTypeEntry
{
    internal PacketTypeEntry(int index, ushort type, CallTarget<PtypeArgs> func, string name, PacketTypeStruct* native)
    {
        Index = index;
        Type = type;
        Func = func;
        Name = name;
        Native = native;
    }

    internal int Index { get; }

    /// <summary>The ethertype in host order (ETH_P_ALL for a tap).</summary>
    public ushort Type { get; }

    /// <summary>The handler (<c>func</c>).</summary>
    public CallTarget<PtypeArgs> Func { get; }

    /// <summary>The handler's kernel name.</summary>
    public string Name { get; }

    /// <summary>The struct in kernel memory (what <c>pt</c> points at).</summary>
    public PacketTypeStruct* Native { get; }
}

/// <summary>Per-CPU state of the path: counters, skb cache, xdp_buff, the modelled CPU while modelling.</summary>
internal sealed unsafe class NetCpu
{
    public NetCpu(NetStack stack, int id, SimulatedCpu cpu, NetCounters counters, KernelMemory memory, int cacheSize)
    {
        Stack = stack;
        Id = id;
        Cpu = cpu;
        C = (long*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(counters.Of(id)));
        Drops = counters.DropReasonsOf(id);
        IcmpIn = (long*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(counters.IcmpInTypesOf(id)));
        Skbs = (SkBuff*)memory.Allocate($"skbuff_head_cache/cpu{id}", (ulong)(cacheSize * SkBuff.Size), 64).Start;
        Free = new int[cacheSize];
        for (var i = 0; i < cacheSize; i++)
        {
            Free[i] = cacheSize - 1 - i;
            Skbs[i].cache_index = i;
            Skbs[i].cache_cpu = (short)id;
        }

        FreeCount = cacheSize;
        Xdp = memory.Allocate<XdpBuff>($"xdp_buff/cpu{id}");
    }

    public readonly NetStack Stack;
    public readonly int Id;
    public readonly SimulatedCpu Cpu;
    // This CPU's counters: pinned arrays of NetCounters, counted through pointers where the index is a NetCounter
    // constant or a byte (ICMP type); drop reasons stay bounds-checked (a traced kfree_skb_reason takes its reason
    // from pt_regs, which a probe may have changed).
    public readonly long* C;
    public readonly long[] Drops;
    public readonly long* IcmpIn;
    public readonly SkBuff* Skbs;
    public readonly int[] Free;
    public readonly XdpBuff* Xdp;
    public int FreeCount;
    public ModelledCpu? Model;
    public double WorkCycles;

    /// <summary>The return address of the indirect call site now calling a target (its parent ip).</summary>
    public ulong SiteReturn;
}

/// <summary>
/// The receive path of one simulated kernel, named as in net/core/dev.c, net/ipv4 and net/ipv6: the simnic driver's
/// NAPI poll with its XDP hook, sk_buffs from per-CPU caches in kernel memory, <c>netif_receive_skb</c> →
/// <c>__netif_receive_skb_core</c> with ptype_all taps and the ptype_base handler, IPv4/IPv6/ARP, the inet protocol
/// tables, UDP/TCP/ICMP and their IPv6 analogues, SNMP counters, and the <c>net:netif_receive_skb</c> tracepoint.
/// Every function is a traceable <see cref="KernelFunction"/>; every indirect call site dispatches under the
/// configured <see cref="DispatchStrategy"/>. Processing a packet allocates nothing.
/// </summary>
public sealed unsafe partial class NetStack
{
    // The path state of the CPU this thread runs (null outside NetRxAction). One thread-static read per call target:
    // on Linux each such read is a __tls_get_addr call, so the CPU's state carries its stack instead of a second one.
    [ThreadStatic]
    private static NetCpu? t_cpu;

    private static readonly CallTarget<PtypeArgs> IpRcvFunc = CallTarget<PtypeArgs>.Of<IpRcvTarget>();
    private static readonly CallTarget<PtypeArgs> Ipv6RcvFunc = CallTarget<PtypeArgs>.Of<Ipv6RcvTarget>();
    private static readonly CallTarget<PtypeArgs> ArpRcvFunc = CallTarget<PtypeArgs>.Of<ArpRcvTarget>();
    private static readonly CallTarget<PtypeArgs> PacketRcvFunc = CallTarget<PtypeArgs>.Of<PacketRcvTarget>();
    private static readonly CallTarget<SkbArgs> IpLocalDeliverFunc = CallTarget<SkbArgs>.Of<IpLocalDeliverTarget>();
    private static readonly CallTarget<SkbArgs> IpErrorFunc = CallTarget<SkbArgs>.Of<IpErrorTarget>();
    private static readonly CallTarget<SkbArgs> Ip6InputFunc = CallTarget<SkbArgs>.Of<Ip6InputTarget>();
    private static readonly CallTarget<SkbArgs> Ip6ForwardFunc = CallTarget<SkbArgs>.Of<Ip6ForwardTarget>();
    private static readonly CallTarget<NapiArgs> SimnicPollFunc = CallTarget<NapiArgs>.Of<SimnicPollTarget>();
    private static readonly CallTarget<XdpArgs> XdpProgFunc = CallTarget<XdpArgs>.Of<XdpProgTarget>();

    private readonly KernelCore _core;
    private readonly NetCpu[] _cpus;
    private readonly PathFunctions F;
    private readonly Lock _lock = new();
    private readonly List<PacketTypeEntry?> _ptypes = [];
    private readonly CallTarget<SkbArgs>?[] _inetProtos = new CallTarget<SkbArgs>?[256];
    private readonly CallTarget<SkbArgs>?[] _inet6Protos = new CallTarget<SkbArgs>?[256];
    private readonly bool[] _udpPorts = new bool[65536];
    private readonly bool[] _tcpPorts = new bool[65536];
    private PacketTypeEntry[] _ptypeAll = [];
    private PacketTypeEntry[][] _ptypeBase;
    private XdpProgram? _xdp;
    private PacketTypeEntry? _tap;

    public NetStack(KernelCore core, NetStackOptions? options = null, KernelTracing? tracing = null)
    {
        _core = core ?? throw new ArgumentNullException(nameof(core));
        Options = options ?? new NetStackOptions();
        var model = Options.Model;
        var strategy = Options.Strategy;
        Counters = new NetCounters(core.Cpus.Count);
        Nic = new SimulatedNic(core.Memory, Options.DeviceName, core.Cpus.Count, Options.RingSize);
        Device = core.Memory.Allocate<NetDeviceStruct>($"net_device/{Options.DeviceName}");
        var name = System.Text.Encoding.ASCII.GetBytes(Options.DeviceName);
        if (name.Length >= NetDeviceStruct.NameSize)
            throw new ArgumentException($"interface name '{Options.DeviceName}' is longer than IFNAMSIZ-1", nameof(options));
        name.CopyTo(new Span<byte>(Device->name, NetDeviceStruct.NameSize));
        Device->ifindex = 2;
        Device->mtu = 1500;
        Device->addr_len = 6;
        TrafficGenerator.HostMac.CopyTo(new Span<byte>(Device->dev_addr, 6));
        _cpus = [.. core.Cpus.All.Select(c => new NetCpu(this, c.Id, c, Counters, core.Memory, Options.SkbCacheSize))];
        _ptypeBase = [.. Enumerable.Range(0, NetConst.PtypeHashMask + 1).Select(_ => Array.Empty<PacketTypeEntry>())];
        F = new PathFunctions(core, this);

        // The call sites, named by the caller's symbol and the call's offset, with Linux's guard candidates.
        PtypeSite = PathCallSites.Create<PtypeArgs, Ipv6RcvTarget, IpRcvTarget, IpRcvTarget>(
            F.Site(F.__netif_receive_skb_one_core, 0x4e), strategy, model);
        DeliverSkbSite = PathCallSites.Create<PtypeArgs, Ipv6RcvTarget, IpRcvTarget, PacketRcvTarget>(
            F.Site(F.deliver_skb, 0x2b), strategy, model, neverWrapped: true);
        DstInputSite = PathCallSites.Create<SkbArgs, Ip6InputTarget, IpLocalDeliverTarget, IpLocalDeliverTarget>(
            F.Site(F.ip_rcv_finish, 0x6a), strategy, model);
        Dst6InputSite = PathCallSites.Create<SkbArgs, Ip6InputTarget, IpLocalDeliverTarget, Ip6InputTarget>(
            F.Site(F.ip6_rcv_finish, 0x5c), strategy, model);
        L4Site = PathCallSites.Create<SkbArgs, TcpV4RcvTarget, UdpRcvTarget, UdpRcvTarget>(
            F.Site(F.ip_protocol_deliver_rcu, 0x73), strategy, model);
        L4v6Site = PathCallSites.Create<SkbArgs, TcpV6RcvTarget, Udpv6RcvTarget, Udpv6RcvTarget>(
            F.Site(F.ip6_protocol_deliver_rcu, 0x8d), strategy, model);
        // __napi_poll calls n->poll unwrapped; the BPF dispatcher turns prog->bpf_func into a direct call, which the
        // guards strategy models as INDIRECT_CALL_1 with the attached program.
        NapiPollSite = PathCallSites.Create<NapiArgs, SimnicPollTarget>(F.Site(F.__napi_poll, 0x33), strategy, model, guarded: false);
        XdpSite = PathCallSites.Create<XdpArgs, XdpProgTarget>(F.Site(F.bpf_prog_run_xdp, 0x1f), strategy, model);
        CallSites = [NapiPollSite.Describe(), XdpSite.Describe(), DeliverSkbSite.Describe(), PtypeSite.Describe(), DstInputSite.Describe(),
            Dst6InputSite.Describe(), L4Site.Describe(), L4v6Site.Describe()];

        // inet_init / inet6_init: the protocol tables and the ptype handlers, in Linux's registration order.
        _inetProtos[NetConst.IpProtoIcmp] = CallTarget<SkbArgs>.Of<IcmpRcvTarget>();
        _inetProtos[NetConst.IpProtoUdp] = CallTarget<SkbArgs>.Of<UdpRcvTarget>();
        _inetProtos[NetConst.IpProtoTcp] = CallTarget<SkbArgs>.Of<TcpV4RcvTarget>();
        _inet6Protos[NetConst.IpProtoIcmpv6] = CallTarget<SkbArgs>.Of<Icmpv6RcvTarget>();
        _inet6Protos[NetConst.IpProtoUdp] = CallTarget<SkbArgs>.Of<Udpv6RcvTarget>();
        _inet6Protos[NetConst.IpProtoTcp] = CallTarget<SkbArgs>.Of<TcpV6RcvTarget>();
        DevAddPack(NetConst.EthPIp, IpRcvFunc, "ip_rcv");
        DevAddPack(NetConst.EthPArp, ArpRcvFunc, "arp_rcv");
        DevAddPack(NetConst.EthPIpv6, Ipv6RcvFunc, "ipv6_rcv");
        for (var p = 0; p < TrafficGenerator.ListeningPorts; p++)
            _udpPorts[TrafficGenerator.FirstListeningPort + p] = _tcpPorts[TrafficGenerator.FirstListeningPort + p] = true;
        if (Options.PacketTap)
            AddPacketTap();
        if (tracing is not null)
            NetifReceiveSkb = NetifReceiveSkbEvent.Define(tracing.Tracepoints);
    }

    /// <summary>The options the path was built with.</summary>
    public NetStackOptions Options { get; }

    /// <summary>The strategy of every call site.</summary>
    public DispatchStrategy Strategy => Options.Strategy;

    /// <summary>The NIC.</summary>
    public SimulatedNic Nic { get; }

    /// <summary>The interface's <c>struct net_device</c>.</summary>
    public NetDeviceStruct* Device { get; }

    /// <summary>Every counter (SNMP, device, XDP, drop reasons), per CPU.</summary>
    public NetCounters Counters { get; }

    /// <summary>The <c>net:netif_receive_skb</c> tracepoint (null when built without the kernel's tracing).</summary>
    public Tracing.Bpf.Tracepoint? NetifReceiveSkb { get; }

    /// <summary>The kernel the path belongs to.</summary>
    public KernelCore Core => _core;

    /// <summary>INDIRECT_CALL_INET(pt_prev-&gt;func, ipv6_rcv, ip_rcv, ...) in __netif_receive_skb_one_core.</summary>
    public PathCallSite<PtypeArgs> PtypeSite { get; }

    /// <summary>pt_prev-&gt;func in deliver_skb (taps): never devirtualised.</summary>
    public PathCallSite<PtypeArgs> DeliverSkbSite { get; }

    /// <summary>INDIRECT_CALL_INET(dst-&gt;input, ip6_input, ip_local_deliver, skb) in ip_rcv_finish (dst_input).</summary>
    public PathCallSite<SkbArgs> DstInputSite { get; }

    /// <summary>The same wrapper in ip6_rcv_finish.</summary>
    public PathCallSite<SkbArgs> Dst6InputSite { get; }

    /// <summary>INDIRECT_CALL_2(ipprot-&gt;handler, tcp_v4_rcv, udp_rcv, skb) in ip_protocol_deliver_rcu.</summary>
    public PathCallSite<SkbArgs> L4Site { get; }

    /// <summary>INDIRECT_CALL_2(ipprot-&gt;handler, tcp_v6_rcv, udpv6_rcv, skb) in ip6_protocol_deliver_rcu.</summary>
    public PathCallSite<SkbArgs> L4v6Site { get; }

    /// <summary>n-&gt;poll(n, weight) in __napi_poll.</summary>
    public PathCallSite<NapiArgs> NapiPollSite { get; }

    /// <summary>prog-&gt;bpf_func(ctx) in bpf_prog_run_xdp.</summary>
    public PathCallSite<XdpArgs> XdpSite { get; }

    /// <summary>Every call site with its counters.</summary>
    public IReadOnlyList<CallSiteInfo> CallSites { get; }

    /// <summary>The attached XDP program, or null.</summary>
    public XdpProgram? Xdp => Volatile.Read(ref _xdp);

    /// <summary>The names of the path's kernel functions, in definition order.</summary>
    public IReadOnlyList<string> FunctionNames => F.Names;

    internal static NetCpu RunningCpu =>
        t_cpu ?? throw new InvalidOperationException("no receive path runs on this thread (call NetRxAction on a CPU)");

    /// <summary><c>dev_add_pack</c>: registers a handler for <paramref name="type"/> (ETH_P_ALL = a tap on ptype_all).</summary>
    public PacketTypeEntry DevAddPack(ushort type, CallTarget<PtypeArgs> func, string name)
    {
        ArgumentNullException.ThrowIfNull(func);
        lock (_lock)
        {
            var native = (PacketTypeStruct*)_core.Memory.Allocate($"packet_type/{name}/{_ptypes.Count}", 64).Start;
            native->type = NetConst.Htons(type);
            native->func = (ulong)func.FunctionPointer;
            native->af_packet_priv = (ulong)_ptypes.Count;
            var entry = new PacketTypeEntry(_ptypes.Count, type, func, name, native);
            _ptypes.Add(entry);
            // list_add_rcu: one atomic publish of a new array; readers never see a half-built list.
            if (type == NetConst.EthPAll)
            {
                Volatile.Write(ref _ptypeAll, [.. _ptypeAll, entry]);
            }
            else
            {
                var bucket = type & NetConst.PtypeHashMask;
                var next = (PacketTypeEntry[][])_ptypeBase.Clone();
                next[bucket] = [entry, .. next[bucket]];
                Volatile.Write(ref _ptypeBase, next);
            }

            return entry;
        }
    }

    /// <summary><c>dev_remove_pack</c>.</summary>
    public void DevRemovePack(PacketTypeEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_lock)
        {
            if (entry.Type == NetConst.EthPAll)
            {
                Volatile.Write(ref _ptypeAll, [.. _ptypeAll.Where(e => e != entry)]);
            }
            else
            {
                var next = (PacketTypeEntry[][])_ptypeBase.Clone();
                var bucket = entry.Type & NetConst.PtypeHashMask;
                next[bucket] = [.. next[bucket].Where(e => e != entry)];
                Volatile.Write(ref _ptypeBase, next);
            }
        }

        _core.Cpus.SynchronizeRcu();
    }

    /// <summary>Opens an AF_PACKET socket bound to ETH_P_ALL: <c>packet_rcv</c> on ptype_all (idempotent).</summary>
    public PacketTypeEntry AddPacketTap() => _tap ??= DevAddPack(NetConst.EthPAll, PacketRcvFunc, "packet_rcv");

    /// <summary>Removes every ETH_P_ALL tap added by <see cref="AddPacketTap"/>.</summary>
    public void RemovePacketTap()
    {
        if (_tap is { } tap)
            DevRemovePack(tap);
        _tap = null;
    }

    /// <summary>The handlers on ptype_all, in delivery order.</summary>
    public IReadOnlyList<PacketTypeEntry> PtypeAll => Volatile.Read(ref _ptypeAll);

    /// <summary>The handlers in ptype_base's bucket for <paramref name="type"/> (host order).</summary>
    public IReadOnlyList<PacketTypeEntry> PtypeBase(ushort type) => Volatile.Read(ref _ptypeBase)[type & NetConst.PtypeHashMask];

    /// <summary>Opens (or closes) a UDP socket on <paramref name="port"/>.</summary>
    public void BindUdp(ushort port, bool bound = true) => _udpPorts[port] = bound;

    /// <summary>Opens (or closes) an established TCP connection to local <paramref name="port"/>.</summary>
    public void BindTcp(ushort port, bool bound = true) => _tcpPorts[port] = bound;

    /// <summary><c>dev_xdp_attach</c>: attaches (or with null detaches) the driver-mode XDP program.</summary>
    public void AttachXdp(XdpProgram? program)
    {
        Volatile.Write(ref _xdp, program);
        _core.Cpus.SynchronizeRcu();
    }

    /// <summary>
    /// The NIC receives a frame: RSS picks the queue, the frame is DMA'd into its ring with the hardware checksum
    /// verdict (<paramref name="status"/>, computed when null). Returns the queue, or -1 when the ring was full
    /// (counted in rx_missed_errors of the queue's CPU).
    /// </summary>
    public int Receive(ReadOnlySpan<byte> frame, RxStatus? status = null, uint? hash = null)
    {
        var h = hash ?? Nic.Rss.Hash(frame);
        var queue = Nic.Rss.Queue(h);
        return DmaTo(queue, frame, status ?? SimulatedNic.ChecksumOffload(frame), h) ? queue : -1;
    }

    /// <summary>DMA into a given queue (the caller did RSS); false and rx_missed_errors when the ring is full.</summary>
    public bool DmaTo(int queue, ReadOnlySpan<byte> frame, RxStatus status, uint hash)
    {
        if (Nic.Queues[queue].Dma(frame, hash, status))
            return true;
        CountMissed(queue);
        return false;
    }

    /// <summary>A frame the NIC could not DMA into queue <paramref name="queue"/>'s full ring: rx_missed_errors.</summary>
    internal void CountMissed(int queue) => _cpus[queue].C[(int)NetCounter.RxMissedErrors]++;

    /// <summary>
    /// The NET_RX softirq on the calling thread's CPU (<c>net_rx_action</c>): polls that CPU's queue until it is
    /// empty. Call it inside <see cref="SimulatedCpu.Run"/>. Returns the frames processed.
    /// </summary>
    public int NetRxAction()
    {
        var cpu = _core.Cpus.RequireCurrent();
        var c = _cpus[cpu.Id];
        var previousCpu = t_cpu;
        t_cpu = c;
        var model = Options.Model;
        if (model is { Enabled: true })
        {
            model.BindCurrentThread(cpu.Id);
            c.Model = model.Current;
        }
        else
        {
            c.Model = null;
        }

        var previousTask = cpu.CurrentTask;
        using var softirq = cpu.Enter(CpuContext.SoftIrq);
        cpu.CurrentTask = cpu.Idle;
        // A softirq runs with bottom halves disabled, which since the RCU flavour consolidation (4.20) is an RCU
        // read-side critical section: the XDP program, ptype lists and protocol tables read here stay valid until
        // net_rx_action returns. The rcu_read_lock calls inside (netif_receive_skb_internal, the ftrace trampoline)
        // then nest, so a packet costs no atomic RCU counter updates.
        cpu.RcuReadLock();
        try
        {
            var f = F.net_rx_action;
            return f.Fentry is { } h ? (int)h.Invoke(f, F.Ret(F.handle_softirqs, 0xd2), 0, 0, 0, 0, 0, 0) : net_rx_action(c);
        }
        finally
        {
            cpu.RcuReadUnlock();
            cpu.CurrentTask = previousTask;
            t_cpu = previousCpu;
        }
    }

    /// <summary>Modelled cycles spent in the path's own work (function bodies and direct calls) on every CPU; the rest of the model's cycles are dispatch.</summary>
    public double WorkCycles => _cpus.Sum(c => c.WorkCycles);

    /// <summary>Zeroes the counters, the call sites' statistics stay.</summary>
    public void ResetCounters()
    {
        Counters.Reset();
        foreach (var c in _cpus)
            c.WorkCycles = 0;
    }

    /// <summary>Whether a kernel allocation starting at <paramref name="start"/> is an skb cache or an rx ring's buffers.</summary>
    internal bool IsPacketMemory(ulong start) =>
        _cpus.Any(c => (ulong)c.Skbs == start) || Nic.Queues.Any(q => q.Buffers.Start == start);

    /// <summary>sk_buffs currently free in CPU <paramref name="cpu"/>'s cache (all of them when no packet is in flight).</summary>
    public int FreeSkbs(int cpu) => _cpus[cpu].FreeCount;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Work(NetCpu c, int cycles)
    {
        c.Cpu.Advance(cycles / 3);
        if (c.Model is { } m)
        {
            m.Account.Charge(cycles);
            c.WorkCycles += cycles;
        }
    }

    // A direct call between path functions: `call rel32` and the RSB push, charged as work.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Enter(NetCpu c, ulong ret)
    {
        if (c.Model is { } m)
            EnterModelled(c, m, ret);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Leave(NetCpu c, ulong ret)
    {
        if (c.Model is { } m)
            LeaveModelled(c, m, ret);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EnterModelled(NetCpu c, ModelledCpu m, ulong ret)
    {
        var before = m.Account.Cycles;
        m.CallDirect(ret);
        c.WorkCycles += m.Account.Cycles - before;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LeaveModelled(NetCpu c, ModelledCpu m, ulong ret)
    {
        var before = m.Account.Cycles;
        m.Return(ret);
        c.WorkCycles += m.Account.Cycles - before;
    }
}

/// <summary>A call site's name, strategy-specific candidates, and hit/miss counters.</summary>
public sealed class CallSiteInfo(string name, Func<long> hits, Func<long> misses, Func<IReadOnlyList<string>> candidates)
{
    public string Name { get; } = name;

    public long Hits => hits();

    public long Misses => misses();

    public IReadOnlyList<string> Candidates => candidates();
}

/// <summary>Helpers on call sites.</summary>
public static class PathCallSiteExtensions
{
    /// <summary>A read-only view of the site's counters.</summary>
    public static CallSiteInfo Describe<TArgs>(this PathCallSite<TArgs> site)
        where TArgs : struct
    {
        ArgumentNullException.ThrowIfNull(site);
        return new CallSiteInfo(site.Name, () => site.Hits, () => site.Misses, () => [.. site.Candidates.Select(PathTargetNames.Linux)]);
    }
}
