// Legacy `maps` section with 36-byte records (iproute2's struct bpf_elf_map: + id, pinning, inner_id, inner_idx).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

struct bpf_elf_map SEC("maps") tc_stats = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 4,
	.pinning = 2,
};

SEC("classifier")
int tc_count(struct __sk_buff *skb)
{
	__u32 key = skb->len & 3;
	__u64 *v = bpf_map_lookup_elem(&tc_stats, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char __license[] SEC("license") = "GPL";
