// Socket filter: accept the first 64 bytes of packets longer than 14 bytes, reading the length from __sk_buff.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("socket")
int trim_socket(struct __sk_buff *skb)
{
	if (skb->len <= 14)
		return 0;
	return skb->len > 64 ? 64 : skb->len;
}

char LICENSE[] SEC("license") = "GPL";
