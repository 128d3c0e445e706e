// Subprograms in .text called from two programs in different sections (each gets its own copy appended),
// including a subprogram calling another one.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

static __noinline __u64 square(__u64 x)
{
	return x * x;
}

static __noinline __u64 sum_squares(__u64 a, __u64 b)
{
	return square(a) + square(b);
}

__noinline int global_add(int a, int b)
{
	return a + b;
}

SEC("socket")
int sub_socket(struct __sk_buff *skb)
{
	return (int)sum_squares(3, 4);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int sub_tp(void *ctx)
{
	return global_add((int)square(5), 1);
}

char LICENSE[] SEC("license") = "GPL";
