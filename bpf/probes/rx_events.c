// Probes on the receive path's events rather than its functions' registers, for `kernelsim run --bpf`:
// the net:netif_receive_skb tracepoint (its record and its raw arguments), fentry on ip_rcv (typed arguments)
// and fexit on udp_rcv (arguments and return value).
// Build: bpf/probes/build.sh (clang-14 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I ../include).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

// Key 0: packets seen by the tracepoint program, 1: their bytes (the record's len), 2: records whose device name
// starts with "eth", 3: packets seen by the raw_tracepoint program, 4: ip_rcv entries (fentry), 5: udp_rcv
// returns (fexit), 6: udp_rcv returns that were not NET_RX_SUCCESS, 7: the sum of ip_rcv_entry's attach cookie per hit
// (0 unless one is given, e.g. `kernelsim trace --bpf rx_events.o --bpf-cookie ip_rcv_entry=5`).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} rx_events SEC(".maps");

static __always_inline void add(__u32 key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&rx_events, &key);
	if (v)
		__sync_fetch_and_add(v, n);
}

SEC("tracepoint/net/netif_receive_skb")
int netif_rx_record(struct trace_event_raw_net_dev_template *ctx)
{
	char name[4] = {};
	unsigned short off = ctx->__data_loc_name & 0xFFFF;

	add(0, 1);
	add(1, ctx->len);
	if (bpf_probe_read_kernel(name, 3, (char *)ctx + off) == 0 && name[0] == 'e' && name[1] == 't' && name[2] == 'h')
		add(2, 1);
	return 0;
}

SEC("raw_tracepoint/netif_receive_skb")
int netif_rx_raw(struct bpf_raw_tracepoint_args *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->args[0];
	unsigned int len = 0;

	if (bpf_probe_read_kernel(&len, sizeof(len), &skb->len) == 0 && len > 0)
		add(3, 1);
	return 0;
}

SEC("fentry/ip_rcv")
int BPF_PROG(ip_rcv_entry, struct sk_buff *skb, struct net_device *dev)
{
	add(4, 1);
	add(7, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("fexit/udp_rcv")
int BPF_PROG(udp_rcv_exit, struct sk_buff *skb, int ret)
{
	add(5, 1);
	if (ret != 0)
		add(6, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
