namespace Kernel.Sim.Bpf.Elf;

/// <summary>What a program's ELF section name says about it: the program type (bpftool's name and Linux's
/// enum bpf_prog_type number), the expected attach type if any, and the attach target the name carries.</summary>
public sealed record ProgramSectionInfo(string TypeName, int LinuxType, string? AttachType, string? AttachTarget);

/// <summary>
/// libbpf's section_defs table (tools/lib/bpf/libbpf.c): which section names mean which program type. A name
/// ending in '+' matches the name itself or the name followed by '/' and an attach target (<c>kprobe/do_sys_open</c>);
/// the others match exactly. The first matching row wins, as in libbpf.
/// </summary>
public static class SectionDefs
{
    private sealed record Def(string Prefix, string TypeName, int LinuxType, string? AttachType = null);

    private static readonly Def[] Defs =
    [
        new("socket", "socket_filter", 1),
        new("sk_reuseport/migrate", "sk_reuseport", 21, "sk_reuseport_select_or_migrate"),
        new("sk_reuseport", "sk_reuseport", 21, "sk_reuseport_select"),
        new("kprobe+", "kprobe", 2),
        new("uprobe+", "kprobe", 2),
        new("uprobe.s+", "kprobe", 2),
        new("kretprobe+", "kprobe", 2),
        new("uretprobe+", "kprobe", 2),
        new("uretprobe.s+", "kprobe", 2),
        new("kprobe.multi+", "kprobe", 2, "trace_kprobe_multi"),
        new("kretprobe.multi+", "kprobe", 2, "trace_kprobe_multi"),
        new("ksyscall+", "kprobe", 2),
        new("kretsyscall+", "kprobe", 2),
        new("usdt+", "kprobe", 2),
        new("tc/ingress", "sched_cls", 3, "tcx_ingress"),
        new("tc/egress", "sched_cls", 3, "tcx_egress"),
        new("tcx/ingress", "sched_cls", 3, "tcx_ingress"),
        new("tcx/egress", "sched_cls", 3, "tcx_egress"),
        new("tc", "sched_cls", 3),
        new("classifier", "sched_cls", 3),
        new("action", "sched_act", 4),
        new("tracepoint+", "tracepoint", 5),
        new("tp+", "tracepoint", 5),
        new("raw_tracepoint+", "raw_tracepoint", 17),
        new("raw_tp+", "raw_tracepoint", 17),
        new("raw_tracepoint.w+", "raw_tracepoint_writable", 24),
        new("raw_tp.w+", "raw_tracepoint_writable", 24),
        new("tp_btf+", "tracing", 26, "trace_raw_tp"),
        new("fentry+", "tracing", 26, "trace_fentry"),
        new("fmod_ret+", "tracing", 26, "modify_return"),
        new("fexit+", "tracing", 26, "trace_fexit"),
        new("fentry.s+", "tracing", 26, "trace_fentry"),
        new("fmod_ret.s+", "tracing", 26, "modify_return"),
        new("fexit.s+", "tracing", 26, "trace_fexit"),
        new("freplace+", "ext", 28),
        new("lsm+", "lsm", 29, "lsm_mac"),
        new("lsm.s+", "lsm", 29, "lsm_mac"),
        new("lsm_cgroup+", "lsm", 29, "lsm_cgroup"),
        new("iter+", "tracing", 26, "trace_iter"),
        new("iter.s+", "tracing", 26, "trace_iter"),
        new("syscall", "syscall", 31),
        new("xdp.frags/devmap", "xdp", 6, "xdp_devmap"),
        new("xdp/devmap", "xdp", 6, "xdp_devmap"),
        new("xdp.frags/cpumap", "xdp", 6, "xdp_cpumap"),
        new("xdp/cpumap", "xdp", 6, "xdp_cpumap"),
        new("xdp.frags", "xdp", 6, "xdp"),
        new("xdp", "xdp", 6, "xdp"),
        new("perf_event", "perf_event", 7),
        new("lwt_in", "lwt_in", 10),
        new("lwt_out", "lwt_out", 11),
        new("lwt_xmit", "lwt_xmit", 12),
        new("lwt_seg6local", "lwt_seg6local", 19),
        new("sockops", "sock_ops", 13, "cgroup_sock_ops"),
        new("sk_skb/stream_parser", "sk_skb", 14, "sk_skb_stream_parser"),
        new("sk_skb/stream_verdict", "sk_skb", 14, "sk_skb_stream_verdict"),
        new("sk_skb", "sk_skb", 14),
        new("sk_msg", "sk_msg", 16, "sk_msg_verdict"),
        new("lirc_mode2", "lirc_mode2", 20, "lirc_mode2"),
        new("flow_dissector", "flow_dissector", 22, "flow_dissector"),
        new("cgroup_skb/ingress", "cgroup_skb", 8, "cgroup_inet_ingress"),
        new("cgroup_skb/egress", "cgroup_skb", 8, "cgroup_inet_egress"),
        new("cgroup/skb", "cgroup_skb", 8),
        new("cgroup/sock_create", "cgroup_sock", 9, "cgroup_inet_sock_create"),
        new("cgroup/sock_release", "cgroup_sock", 9, "cgroup_inet_sock_release"),
        new("cgroup/sock", "cgroup_sock", 9, "cgroup_inet_sock_create"),
        new("cgroup/post_bind4", "cgroup_sock", 9, "cgroup_inet4_post_bind"),
        new("cgroup/post_bind6", "cgroup_sock", 9, "cgroup_inet6_post_bind"),
        new("cgroup/bind4", "cgroup_sock_addr", 18, "cgroup_inet4_bind"),
        new("cgroup/bind6", "cgroup_sock_addr", 18, "cgroup_inet6_bind"),
        new("cgroup/connect4", "cgroup_sock_addr", 18, "cgroup_inet4_connect"),
        new("cgroup/connect6", "cgroup_sock_addr", 18, "cgroup_inet6_connect"),
        new("cgroup/sendmsg4", "cgroup_sock_addr", 18, "cgroup_udp4_sendmsg"),
        new("cgroup/sendmsg6", "cgroup_sock_addr", 18, "cgroup_udp6_sendmsg"),
        new("cgroup/recvmsg4", "cgroup_sock_addr", 18, "cgroup_udp4_recvmsg"),
        new("cgroup/recvmsg6", "cgroup_sock_addr", 18, "cgroup_udp6_recvmsg"),
        new("cgroup/getpeername4", "cgroup_sock_addr", 18, "cgroup_inet4_getpeername"),
        new("cgroup/getpeername6", "cgroup_sock_addr", 18, "cgroup_inet6_getpeername"),
        new("cgroup/getsockname4", "cgroup_sock_addr", 18, "cgroup_inet4_getsockname"),
        new("cgroup/getsockname6", "cgroup_sock_addr", 18, "cgroup_inet6_getsockname"),
        new("cgroup/sysctl", "cgroup_sysctl", 23, "cgroup_sysctl"),
        new("cgroup/getsockopt", "cgroup_sockopt", 25, "cgroup_getsockopt"),
        new("cgroup/setsockopt", "cgroup_sockopt", 25, "cgroup_setsockopt"),
        new("cgroup/dev", "cgroup_device", 15, "cgroup_device"),
        new("struct_ops+", "struct_ops", 27),
        new("struct_ops.s+", "struct_ops", 27),
        new("sk_lookup", "sk_lookup", 30, "sk_lookup"),
        new("netfilter", "netfilter", 32, "netfilter"),
    ];

    /// <summary>The program type the section name <paramref name="section"/> means, or null when no convention maps it.</summary>
    public static ProgramSectionInfo? Lookup(string section)
    {
        ArgumentNullException.ThrowIfNull(section);
        foreach (var d in Defs)
        {
            if (d.Prefix.EndsWith('+'))
            {
                var p = d.Prefix[..^1];
                if (section == p)
                    return new ProgramSectionInfo(d.TypeName, d.LinuxType, d.AttachType, null);
                if (section.StartsWith(p + "/", StringComparison.Ordinal))
                    return new ProgramSectionInfo(d.TypeName, d.LinuxType, d.AttachType, section[(p.Length + 1)..]);
            }
            else if (section == d.Prefix)
            {
                return new ProgramSectionInfo(d.TypeName, d.LinuxType, d.AttachType, null);
            }
        }

        return null;
    }

    /// <summary>The type a <c>--type NAME</c> option forces (bpftool's program type names, plus <c>raw</c>).</summary>
    public static ProgramSectionInfo? ForType(string typeName)
    {
        if (typeName == "raw")
            return new ProgramSectionInfo("raw", 0, null, null);
        foreach (var d in Defs)
        {
            if (d.TypeName == typeName)
                return new ProgramSectionInfo(d.TypeName, d.LinuxType, null, null);
        }

        return null;
    }

    /// <summary>Every program type name the table knows.</summary>
    public static IEnumerable<string> TypeNames => Defs.Select(d => d.TypeName).Append("raw").Distinct().Order(StringComparer.Ordinal);
}
