// HASH map: insert with BPF_NOEXIST, update with BPF_EXIST, delete; returns the number of successful steps.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} table SEC(".maps");

SEC("socket")
int hash_steps(struct __sk_buff *skb)
{
	__u32 key = 7;
	__u64 val = 100;
	int ok = 0;

	if (bpf_map_update_elem(&table, &key, &val, BPF_NOEXIST) == 0)
		ok++;
	if (bpf_map_update_elem(&table, &key, &val, BPF_NOEXIST) != 0)
		ok++;
	val = 200;
	if (bpf_map_update_elem(&table, &key, &val, BPF_EXIST) == 0)
		ok++;
	__u64 *p = bpf_map_lookup_elem(&table, &key);
	if (p && *p == 200)
		ok++;
	key = 8;
	if (bpf_map_delete_elem(&table, &key) != 0)
		ok++;
	return ok;
}

char LICENSE[] SEC("license") = "GPL";
