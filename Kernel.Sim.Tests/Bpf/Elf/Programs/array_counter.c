// ARRAY map updated from a kprobe written with BPF_KPROBE: counts calls and sums the first argument.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

SEC("kprobe/ip_rcv")
int BPF_KPROBE(count_ip_rcv, struct sk_buff *skb, struct net_device *dev)
{
	__u32 calls = 0, sum = 1;
	__u64 *v = bpf_map_lookup_elem(&counters, &calls);
	if (!v)
		return 0;
	__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&counters, &sum);
	if (!v)
		return 0;
	*v += PT_REGS_PARM1(ctx) & 0xff;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
