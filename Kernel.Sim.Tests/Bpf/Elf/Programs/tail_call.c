// PROG_ARRAY initialised statically with __array(values, ...): slot 0 and 2 hold programs, slot 1 is empty.
// tail_hit jumps to slot 0 (returns 42); tail_miss jumps to empty slot 1 and falls through (returns 7).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

int callee_a(struct xdp_md *ctx);
int callee_b(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jump_table SEC(".maps") = {
	.values = {
		[0] = (void *)&callee_a,
		[2] = (void *)&callee_b,
	},
};

SEC("xdp")
int callee_a(struct xdp_md *ctx)
{
	return 42;
}

SEC("xdp")
int callee_b(struct xdp_md *ctx)
{
	return 43;
}

SEC("xdp")
int tail_hit(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, 0);
	return 7;
}

SEC("xdp")
int tail_miss(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, 1);
	return 7;
}

char LICENSE[] SEC("license") = "GPL";
