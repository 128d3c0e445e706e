// PERCPU_HASH keyed by the packet length.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} len_hist SEC(".maps");

SEC("xdp")
int len_histogram(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(&len_hist, &len);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&len_hist, &len, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
