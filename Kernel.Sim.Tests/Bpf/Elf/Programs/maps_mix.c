// Three BTF-defined maps in one .maps section: each lddw must resolve to its own map by the symbol's offset.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u64);
	__type(value, __u32);
} first SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct ethhdr);
} second SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, __u32);
	__type(value, __u64);
} third SEC(".maps");

SEC("xdp")
int use_third(struct xdp_md *ctx)
{
	__u32 k = 1;
	__u64 v = 2;
	bpf_map_update_elem(&third, &k, &v, BPF_ANY);
	struct ethhdr *e = bpf_map_lookup_elem(&second, &k);
	return e ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
