// The default probes of `kernelsim run`: an XDP program counting frames per family and a kprobe on ip_rcv
// counting IPv4 packets per protocol. Build: clang-14 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I ../include -c path_probes.c
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_ARP 0x0806

// Key 0: ipv4, 1: ipv6, 2: arp, 3: other (the run verb's families).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} xdp_families SEC(".maps");

// Key: the IPv4 protocol number (iph->protocol).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} ip_rcv_protocols SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 key = 3;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		key = 0;
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		key = 1;
	else if (eth->h_proto == bpf_htons(ETH_P_ARP))
		key = 2;
	__u64 *v = bpf_map_lookup_elem(&xdp_families, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

SEC("kprobe/ip_rcv")
int BPF_KPROBE(ip_rcv_count, struct sk_buff *skb)
{
	unsigned char *data;
	__u8 protocol;
	if (bpf_probe_read_kernel(&data, sizeof(data), &skb->data))
		return 0;
	if (bpf_probe_read_kernel(&protocol, sizeof(protocol), data + 9))
		return 0;
	__u32 key = protocol;
	__u64 *v = bpf_map_lookup_elem(&ip_rcv_protocols, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
