// Compiled, then stripped of its function symbols by build.sh: an object as older clang produced it, where
// a program is its whole section.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int old_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("socket")
int old_socket(struct __sk_buff *skb)
{
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
