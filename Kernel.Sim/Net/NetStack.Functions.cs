using Kernel.Sim.Core;

namespace Kernel.Sim.Net;

public sealed unsafe partial class NetStack
{
    /// <summary>
    /// The path's kernel functions, defined in kallsyms and available_filter_functions with their C prototypes and
    /// sizes close to a 6.x x86-64 build. Bodies called by the ftrace trampoline find their CPU's state per thread.
    /// </summary>
    private sealed class PathFunctions
    {
        private readonly List<string> _names = [];

        public readonly KernelFunction net_rx_action, __napi_poll, simnic_poll, bpf_prog_run_xdp, simnic_xmit_xdp_frame, napi_build_skb,
            eth_type_trans, netif_receive_skb, netif_receive_skb_internal, __netif_receive_skb, __netif_receive_skb_one_core,
            __netif_receive_skb_core, deliver_skb, kfree_skb_reason, consume_skb, packet_rcv,
            ip_rcv, ip_rcv_core, ip_rcv_finish, ip_route_input_noref, ip_local_deliver, ip_local_deliver_finish, ip_protocol_deliver_rcu,
            ip_error, udp_rcv, __udp4_lib_rcv, __udp4_lib_lookup, udp_queue_rcv_skb, udp_recvmsg, tcp_v4_rcv, tcp_v4_do_rcv,
            tcp_v4_send_reset, icmp_rcv, icmp_echo,
            ipv6_rcv, ip6_rcv_core, ip6_rcv_finish, ip6_route_input, ip6_input, ip6_input_finish, ip6_protocol_deliver_rcu, ip6_forward,
            udpv6_rcv, __udp6_lib_rcv, udpv6_queue_rcv_skb, udpv6_recvmsg, tcp_v6_rcv, tcp_v6_do_rcv, tcp_v6_send_reset, icmpv6_rcv,
            icmpv6_echo_reply, arp_rcv, arp_process;

        /// <summary>The softirq entry that calls net_rx_action (a text symbol, not part of the path).</summary>
        public readonly ulong handle_softirqs;

        public PathFunctions(KernelCore core, NetStack s)
        {
            var fns = core.Functions;
            handle_softirqs = core.Symbols.Lookup("handle_softirqs")?.Address ?? core.Symbols.AddText("handle_softirqs", 0x2c0).Address;

            KernelFunction D(string prototype, KernelFunctionBody body, ulong size)
            {
                var f = fns.Define(prototype, body, size);
                _names.Add(f.Name);
                return f;
            }

            static NetCpu C() => t_cpu ?? throw new InvalidOperationException("path function called outside NetRxAction");

            // Defined in call order, so kallsyms addresses rise along the path.
            net_rx_action = D("void net_rx_action(struct softirq_action *h)", (ref PtRegs r) => (ulong)s.net_rx_action(C()), 0x3a0);
            __napi_poll = D("int __napi_poll(struct napi_struct *n, bool *repoll)", (ref PtRegs r) => (ulong)s.__napi_poll(C(), r.di), 0x1c0);
            simnic_poll = D("int simnic_poll(struct napi_struct *napi, int budget)", (ref PtRegs r) => (ulong)s.simnic_poll(C(), r.di, (int)r.si), 0x6a0);
            bpf_prog_run_xdp = D("u32 bpf_prog_run_xdp(const struct bpf_prog *prog, struct xdp_buff *xdp)", (ref PtRegs r) => s.bpf_prog_run_xdp(C(), (XdpBuff*)r.si), 0x60);
            simnic_xmit_xdp_frame = D("int simnic_xmit_xdp_frame(struct simnic_ring *ring, struct xdp_buff *xdp)", (ref PtRegs r) => (ulong)s.simnic_xmit_xdp_frame(C(), (XdpBuff*)r.si), 0x140);
            napi_build_skb = D("struct sk_buff *napi_build_skb(void *data, unsigned int frag_size)", (ref PtRegs r) => (ulong)s.napi_build_skb(C(), r.di, (int)r.si), 0x120);
            eth_type_trans = D("__be16 eth_type_trans(struct sk_buff *skb, struct net_device *dev)", (ref PtRegs r) => s.eth_type_trans(C(), (SkBuff*)r.di), 0xd0);
            netif_receive_skb = D("int netif_receive_skb(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.netif_receive_skb(C(), (SkBuff*)r.di), 0x90);
            netif_receive_skb_internal = D("int netif_receive_skb_internal(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.netif_receive_skb_internal(C(), (SkBuff*)r.di), 0x110);
            __netif_receive_skb = D("int __netif_receive_skb(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.__netif_receive_skb(C(), (SkBuff*)r.di), 0x80);
            __netif_receive_skb_one_core = D("int __netif_receive_skb_one_core(struct sk_buff *skb, bool pfmemalloc)", (ref PtRegs r) => (ulong)(long)s.__netif_receive_skb_one_core(C(), (SkBuff*)r.di, r.si != 0), 0x90);
            __netif_receive_skb_core = D("int __netif_receive_skb_core(struct sk_buff **pskb, bool pfmemalloc, struct packet_type **ppt_prev)", (ref PtRegs r) => (ulong)(long)s.__netif_receive_skb_core(C(), (SkBuff**)r.di, r.si != 0, (PacketTypeStruct**)r.dx), 0xe80);
            deliver_skb = D("int deliver_skb(struct sk_buff *skb, struct packet_type *pt_prev, struct net_device *orig_dev)", (ref PtRegs r) => (ulong)(long)s.deliver_skb(C(), (SkBuff*)r.di, (PacketTypeStruct*)r.si, r.dx), 0x60);
            packet_rcv = D("int packet_rcv(struct sk_buff *skb, struct net_device *dev, struct packet_type *pt, struct net_device *orig_dev)", (ref PtRegs r) => (ulong)(long)s.packet_rcv(C(), (SkBuff*)r.di), 0x4a0);

            ip_rcv = D("int ip_rcv(struct sk_buff *skb, struct net_device *dev, struct packet_type *pt, struct net_device *orig_dev)", (ref PtRegs r) => (ulong)(long)s.ip_rcv(C(), (SkBuff*)r.di), 0x1a0);
            ip_rcv_core = D("struct sk_buff *ip_rcv_core(struct sk_buff *skb, struct net *net)", (ref PtRegs r) => (ulong)s.ip_rcv_core(C(), (SkBuff*)r.di), 0x3a0);
            ip_rcv_finish = D("int ip_rcv_finish(struct net *net, struct sock *sk, struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.ip_rcv_finish(C(), (SkBuff*)r.dx), 0xc0);
            ip_route_input_noref = D("int ip_route_input_noref(struct sk_buff *skb, __be32 daddr, __be32 saddr, u8 tos, struct net_device *dev)", (ref PtRegs r) => (ulong)(long)s.ip_route_input_noref(C(), (SkBuff*)r.di), 0x100);
            ip_local_deliver = D("int ip_local_deliver(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.ip_local_deliver(C(), (SkBuff*)r.di), 0x110);
            ip_local_deliver_finish = D("int ip_local_deliver_finish(struct net *net, struct sock *sk, struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.ip_local_deliver_finish(C(), (SkBuff*)r.dx), 0x80);
            ip_protocol_deliver_rcu = D("void ip_protocol_deliver_rcu(struct net *net, struct sk_buff *skb, int protocol)", (ref PtRegs r) => { s.ip_protocol_deliver_rcu(C(), (SkBuff*)r.si, (int)r.dx); return 0; }, 0x1f0);
            ip_error = D("int ip_error(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.ip_error(C(), (SkBuff*)r.di), 0x1e0);
            udp_rcv = D("int udp_rcv(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.udp_rcv(C(), (SkBuff*)r.di), 0x20);
            __udp4_lib_rcv = D("int __udp4_lib_rcv(struct sk_buff *skb, struct udp_table *udptable, int proto)", (ref PtRegs r) => (ulong)(long)s.__udp4_lib_rcv(C(), (SkBuff*)r.di), 0xa90);
            __udp4_lib_lookup = D("struct sock *__udp4_lib_lookup(const struct net *net, __be32 saddr, __be16 sport, __be32 daddr, __be16 dport, int dif)", (ref PtRegs r) => (ulong)s.__udp4_lib_lookup(C(), (ushort)r.r8), 0x3c0);
            udp_queue_rcv_skb = D("int udp_queue_rcv_skb(struct sock *sk, struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.udp_queue_rcv_skb(C(), (SkBuff*)r.si, false), 0x2b0);
            udp_recvmsg = D("int udp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len, int flags, int *addr_len)", (ref PtRegs r) => (ulong)(long)s.udp_recvmsg(C(), (SkBuff*)r.si, false), 0x5e0);
            tcp_v4_rcv = D("int tcp_v4_rcv(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.tcp_v4_rcv(C(), (SkBuff*)r.di), 0x1340);
            tcp_v4_do_rcv = D("int tcp_v4_do_rcv(struct sock *sk, struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.tcp_do_rcv(C(), (SkBuff*)r.si, false), 0x2d0);
            tcp_v4_send_reset = D("void tcp_v4_send_reset(const struct sock *sk, struct sk_buff *skb, enum sk_rst_reason reason)", (ref PtRegs r) => { s.tcp_send_reset(C(), false); return 0; }, 0x520);
            icmp_rcv = D("int icmp_rcv(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.icmp_rcv(C(), (SkBuff*)r.di), 0x4c0);
            icmp_echo = D("enum skb_drop_reason icmp_echo(struct sk_buff *skb)", (ref PtRegs r) => (ulong)s.icmp_echo(C(), (SkBuff*)r.di), 0xb0);

            ipv6_rcv = D("int ipv6_rcv(struct sk_buff *skb, struct net_device *dev, struct packet_type *pt, struct net_device *orig_dev)", (ref PtRegs r) => (ulong)(long)s.ipv6_rcv(C(), (SkBuff*)r.di), 0x130);
            ip6_rcv_core = D("struct sk_buff *ip6_rcv_core(struct sk_buff *skb, struct net_device *dev, struct net *net)", (ref PtRegs r) => (ulong)s.ip6_rcv_core(C(), (SkBuff*)r.di), 0x4f0);
            ip6_rcv_finish = D("int ip6_rcv_finish(struct net *net, struct sock *sk, struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.ip6_rcv_finish(C(), (SkBuff*)r.dx), 0x110);
            ip6_route_input = D("void ip6_route_input(struct sk_buff *skb)", (ref PtRegs r) => { s.ip6_route_input(C(), (SkBuff*)r.di); return 0; }, 0x1d0);
            ip6_input = D("int ip6_input(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.ip6_input(C(), (SkBuff*)r.di), 0x70);
            ip6_input_finish = D("int ip6_input_finish(struct net *net, struct sock *sk, struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.ip6_input_finish(C(), (SkBuff*)r.dx), 0x50);
            ip6_protocol_deliver_rcu = D("void ip6_protocol_deliver_rcu(struct net *net, struct sk_buff *skb, int nexthdr, bool have_final)", (ref PtRegs r) => { s.ip6_protocol_deliver_rcu(C(), (SkBuff*)r.si, (int)r.dx); return 0; }, 0x4a0);
            ip6_forward = D("int ip6_forward(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.ip6_forward(C(), (SkBuff*)r.di), 0x8c0);
            udpv6_rcv = D("int udpv6_rcv(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.udpv6_rcv(C(), (SkBuff*)r.di), 0x20);
            __udp6_lib_rcv = D("int __udp6_lib_rcv(struct sk_buff *skb, struct udp_table *udptable, int proto)", (ref PtRegs r) => (ulong)(long)s.__udp6_lib_rcv(C(), (SkBuff*)r.di), 0xb20);
            udpv6_queue_rcv_skb = D("int udpv6_queue_rcv_skb(struct sock *sk, struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.udp_queue_rcv_skb(C(), (SkBuff*)r.si, true), 0x2a0);
            udpv6_recvmsg = D("int udpv6_recvmsg(struct sock *sk, struct msghdr *msg, size_t len, int flags, int *addr_len)", (ref PtRegs r) => (ulong)(long)s.udp_recvmsg(C(), (SkBuff*)r.si, true), 0x6d0);
            tcp_v6_rcv = D("int tcp_v6_rcv(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.tcp_v6_rcv(C(), (SkBuff*)r.di), 0x1390);
            tcp_v6_do_rcv = D("int tcp_v6_do_rcv(struct sock *sk, struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.tcp_do_rcv(C(), (SkBuff*)r.si, true), 0x4b0);
            tcp_v6_send_reset = D("void tcp_v6_send_reset(const struct sock *sk, struct sk_buff *skb, enum sk_rst_reason reason)", (ref PtRegs r) => { s.tcp_send_reset(C(), true); return 0; }, 0x3b0);
            icmpv6_rcv = D("int icmpv6_rcv(struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.icmpv6_rcv(C(), (SkBuff*)r.di), 0x5b0);
            icmpv6_echo_reply = D("enum skb_drop_reason icmpv6_echo_reply(struct sk_buff *skb)", (ref PtRegs r) => (ulong)s.icmpv6_echo_reply(C(), (SkBuff*)r.di), 0x4d0);

            arp_rcv = D("int arp_rcv(struct sk_buff *skb, struct net_device *dev, struct packet_type *pt, struct net_device *orig_dev)", (ref PtRegs r) => (ulong)(long)s.arp_rcv(C(), (SkBuff*)r.di), 0x170);
            arp_process = D("int arp_process(struct net *net, struct sock *sk, struct sk_buff *skb)", (ref PtRegs r) => (ulong)(long)s.arp_process(C(), (SkBuff*)r.dx), 0x8b0);

            kfree_skb_reason = D("void kfree_skb_reason(struct sk_buff *skb, enum skb_drop_reason reason)", (ref PtRegs r) => { s.kfree_skb_reason(C(), (SkBuff*)r.di, (DropReason)r.si); return 0; }, 0xa0);
            consume_skb = D("void consume_skb(struct sk_buff *skb)", (ref PtRegs r) => { s.consume_skb(C(), (SkBuff*)r.di); return 0; }, 0x90);
        }

        public IReadOnlyList<string> Names => _names;

        /// <summary>A call site's name: <c>caller+0xOFF</c>.</summary>
        public string Site(KernelFunction caller, ulong offset) => $"{caller.Name}+0x{offset:x}";

        /// <summary>The return address a call at <paramref name="offset"/> in <paramref name="caller"/> pushes.</summary>
        public ulong Ret(KernelFunction caller, ulong offset) => caller.Address + offset;

        public ulong Ret(ulong caller, ulong offset) => caller + offset;
    }
}
