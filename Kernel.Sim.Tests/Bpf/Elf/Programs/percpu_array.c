// PERCPU_ARRAY: one slot per CPU, updated without atomics.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_hits SEC(".maps");

SEC("xdp")
int percpu_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&pcpu_hits, &key);
	if (!v)
		return XDP_ABORTED;
	*v += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
