// Legacy `maps` section with 28-byte records (samples/bpf's bpf_load.c struct bpf_map_def: + inner_map_idx, numa_node).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct bpf_map_def_28 {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
	unsigned int inner_map_idx;
	unsigned int numa_node;
};

struct bpf_map_def_28 SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 8,
};

struct bpf_map_def_28 SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 32,
	.map_flags = BPF_F_NO_PREALLOC,
};

SEC("socket")
int legacy28(struct __sk_buff *skb)
{
	__u32 key = 3, one = 1;
	__u64 *v = bpf_map_lookup_elem(&legacy_array, &key);
	if (v)
		*v = 77;
	bpf_map_update_elem(&legacy_hash, &key, &one, BPF_ANY);
	return v ? 1 : 0;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x060c00;
