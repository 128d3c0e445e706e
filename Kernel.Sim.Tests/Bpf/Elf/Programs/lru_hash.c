// LRU_HASH with 4 entries: inserting 6 keys evicts the least recently used; returns how many of the keys are still present.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} recent SEC(".maps");

static __always_inline void put(__u32 k)
{
	bpf_map_update_elem(&recent, &k, &k, BPF_ANY);
}

static __always_inline int has(__u32 k)
{
	return bpf_map_lookup_elem(&recent, &k) != 0;
}

SEC("socket")
int lru_fill(struct __sk_buff *skb)
{
	put(1); put(2); put(3); put(4);
	has(1);		/* key 1 becomes the most recently used */
	put(5); put(6);	/* evicts the two least recently used: 2 and 3 */
	return has(1) + has(2) + has(3) + has(4) + has(5) + has(6);
}

char LICENSE[] SEC("license") = "GPL";
