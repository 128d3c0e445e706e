using Kernel.Sim.Bpf.Verifier;

namespace Kernel.Sim.Bpf.ProgramTypes;

/// <summary>
/// A program type as the verifier sees it (struct bpf_verifier_ops and friends): the context's layout and
/// access rules, R1 at entry, which helpers it may call and what R0 may hold at exit.
/// </summary>
public abstract class ProgramType
{
    /// <summary>The name used on the command line (<c>xdp</c>).</summary>
    public abstract string Name { get; }

    /// <summary>enum bpf_prog_type value (0 for KernelSim's own <c>raw</c> type, which Linux does not have).</summary>
    public abstract int LinuxType { get; }

    /// <summary>sizeof the context structure (0 when R1 is not a context).</summary>
    public virtual int ContextSize => 0;

    /// <summary>True for tracing programs (kprobe...): tracing-only helpers are allowed.</summary>
    public virtual bool IsTracing => false;

    /// <summary>True when the type may read packet data directly (may_access_direct_pkt_data).</summary>
    public virtual bool DirectPacketAccess => false;

    /// <summary>True when legacy BPF_LD_ABS/IND are allowed (skb-based types).</summary>
    public virtual bool AllowsLdAbs => false;

    /// <summary>The range R0 must lie in at exit (check_return_code), or null when any scalar is fine.</summary>
    public virtual (long Min, long Max)? ReturnRange => null;

    /// <summary>
    /// The is_valid_access callback: may the program access <paramref name="size"/> bytes of the context at
    /// <paramref name="off"/>? On success <paramref name="loadedType"/> is what a load yields (scalar, or a packet pointer).
    /// </summary>
    public virtual bool IsValidContextAccess(int off, int size, bool write, out RegType loadedType)
    {
        loadedType = RegType.Scalar;
        return false;
    }

    /// <summary>get_func_proto: may this type call the helper?</summary>
    public virtual bool IsHelperAllowed(HelperPrototype helper) => !helper.TracingOnly || IsTracing;

    /// <summary>Sets R1 (and for raw, R2) at entry (init_func_state + the type's convention).</summary>
    public virtual void InitRegisters(RegState[] regs, int memSize)
    {
        regs[1] = RegState.Pointer(RegType.PtrToCtx);
    }
}

/// <summary>
/// KernelSim's conformance convention, not a Linux type: R1 points to a memory block of the program's
/// memory size (PTR_TO_MEM, readable and writable), R2 holds that size.
/// </summary>
public sealed class RawProgramType : ProgramType
{
    public override string Name => "raw";

    public override int LinuxType => 0;

    public override void InitRegisters(RegState[] regs, int memSize)
    {
        regs[1] = RegState.Pointer(RegType.PtrToMem);
        regs[1].MemSize = memSize;
        regs[2] = RegState.Known((ulong)memSize);
    }
}

/// <summary>BPF_PROG_TYPE_SOCKET_FILTER with struct __sk_buff (sk_filter_is_valid_access, bpf_skb_is_valid_access).</summary>
public sealed class SocketFilterProgramType : ProgramType
{
    // struct __sk_buff offsets (include/uapi/linux/bpf.h).
    public const int Cb0 = 48, CbEnd = 68, TcClassid = 72, Data = 76, DataEnd = 80, Family = 88, RemoteIp4 = 92,
        LocalIp4 = 96, RemoteIp6 = 100, LocalIp6 = 116, LocalPortEnd = 140, DataMeta = 140, FlowKeys = 144, Tstamp = 152,
        WireLen = 160, Sk = 168, TstampType = 180, Hwtstamp = 184, Size = 192;

    public override string Name => "socket_filter";

    public override int LinuxType => 1;

    public override int ContextSize => Size;

    public override bool AllowsLdAbs => true;

    public override bool IsValidContextAccess(int off, int size, bool write, out RegType loadedType)
    {
        loadedType = RegType.Scalar;
        // Fields a socket filter may not touch at all.
        if (In(off, TcClassid, 4) || In(off, Data, 4) || In(off, DataMeta, 4) || In(off, DataEnd, 4) ||
            (off >= Family && off < LocalPortEnd) || In(off, Tstamp, 8) || In(off, WireLen, 4) || In(off, Hwtstamp, 8))
            return false;
        if (write && !(off >= Cb0 && off < CbEnd))
            return false;
        if (off < 0 || off >= Size || off % size != 0)
            return false;
        if (off >= Cb0 && off < CbEnd)
            return off + size <= CbEnd;
        if (In(off, FlowKeys, 8) || off == TstampType || (off > TstampType && off < Hwtstamp))
            return false;
        if (off == Sk)
            return false; // PTR_TO_SOCK_COMMON_OR_NULL is not modelled: refused rather than mistyped.
        if (write)
            return size == 4;
        // Narrow reads of 1, 2 or 4 bytes inside one 4-byte field (bpf_ctx_narrow_access_ok).
        return size <= 4 && (off & 3) + size <= 4;
    }

    private static bool In(int off, int field, int size) => off >= field && off < field + size;
}

/// <summary>BPF_PROG_TYPE_KPROBE: read-only x86-64 struct pt_regs (168 bytes), tracing helpers.</summary>
public sealed class KprobeProgramType : ProgramType
{
    public const int PtRegsSize = 168;

    public override string Name => "kprobe";

    public override int LinuxType => 2;

    public override int ContextSize => PtRegsSize;

    public override bool IsTracing => true;

    public override bool IsValidContextAccess(int off, int size, bool write, out RegType loadedType)
    {
        loadedType = RegType.Scalar;
        return off >= 0 && off < PtRegsSize && !write && off % size == 0 && off + size <= PtRegsSize;
    }
}

/// <summary>BPF_PROG_TYPE_XDP with struct xdp_md (xdp_is_valid_access): 4-byte reads, packet pointers.</summary>
public sealed class XdpProgramType : ProgramType
{
    public const int Data = 0, DataEnd = 4, DataMeta = 8, IngressIfindex = 12, RxQueueIndex = 16, EgressIfindex = 20, Size = 24;

    public override string Name => "xdp";

    public override int LinuxType => 6;

    public override int ContextSize => Size;

    public override bool DirectPacketAccess => true;

    public override bool IsValidContextAccess(int off, int size, bool write, out RegType loadedType)
    {
        loadedType = off switch
        {
            Data => RegType.PtrToPacket,
            DataMeta => RegType.PtrToPacketMeta,
            DataEnd => RegType.PtrToPacketEnd,
            _ => RegType.Scalar,
        };
        // egress_ifindex is only for BPF_XDP_DEVMAP programs; nothing in xdp_md is writable.
        if (off == EgressIfindex || write)
            return false;
        return off >= 0 && off < Size && off % size == 0 && size == 4;
    }
}

/// <summary>The program types by name; later issues register theirs here.</summary>
public sealed class ProgramTypeRegistry
{
    private readonly Dictionary<string, ProgramType> byName = new(StringComparer.Ordinal);

    /// <summary>A registry holding raw, socket_filter, kprobe and xdp.</summary>
    public static ProgramTypeRegistry CreateDefault()
    {
        var r = new ProgramTypeRegistry();
        r.Register(new RawProgramType());
        r.Register(new SocketFilterProgramType());
        r.Register(new KprobeProgramType());
        r.Register(new XdpProgramType());
        return r;
    }

    public void Register(ProgramType type) => byName[type.Name] = type;

    public bool TryGet(string name, out ProgramType type) => byName.TryGetValue(name, out type!);

    public ProgramType Get(string name) => byName.TryGetValue(name, out var t)
        ? t
        : throw new ArgumentException($"unknown program type '{name}' (known: {string.Join(", ", Names)})", nameof(name));

    public IEnumerable<string> Names => byName.Keys.Order(StringComparer.Ordinal);
}
