// The probe of docs/tutorial.md: a kprobe on ip_rcv counting IPv4 packets per protocol in a hash map and
// their bytes in an array. Build: ./build.sh (clang-14 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I bpf/include).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

// Key: the IPv4 protocol number (iph->protocol: 1 icmp, 6 tcp, 17 udp); value: packets seen.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} packets_by_proto SEC(".maps");

// One slot: the bytes (skb->len) that reached ip_rcv (several CPUs may add at once: an atomic add).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ip_rcv_bytes SEC(".maps");

SEC("kprobe/ip_rcv")
int BPF_KPROBE(count_ip_rcv, struct sk_buff *skb)
{
	unsigned char *data;
	unsigned int len;
	__u8 protocol;

	// A kprobe sees kernel memory only through bpf_probe_read_kernel: skb->data, then byte 9 of the IPv4 header.
	if (bpf_probe_read_kernel(&data, sizeof(data), &skb->data))
		return 0;
	if (bpf_probe_read_kernel(&protocol, sizeof(protocol), data + 9))
		return 0;
	if (bpf_probe_read_kernel(&len, sizeof(len), &skb->len))
		return 0;

	__u32 key = protocol;
	__u64 one = 1;
	__u64 *count = bpf_map_lookup_elem(&packets_by_proto, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&packets_by_proto, &key, &one, BPF_NOEXIST);

	__u32 zero = 0;
	__u64 *bytes = bpf_map_lookup_elem(&ip_rcv_bytes, &zero);
	if (bytes)
		__sync_fetch_and_add(bytes, len);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
