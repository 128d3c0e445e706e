// Per-CPU counters on the receive path, for the tests that run it on several CPUs: each program counts into a
// per-CPU array without atomics (a shared slot would lose counts) and into an array keyed by the CPU it ran on.
// Build (from this directory): clang-14 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I ../../../bpf/include -fdebug-prefix-map=$PWD=. -c percpu_probes.c
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

// Key 0: frames at XDP, 1: ip_rcv hits; one value per CPU.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} percpu_hits SEC(".maps");

// Key: bpf_get_smp_processor_id() of the XDP run.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} xdp_by_cpu SEC(".maps");

SEC("xdp")
int xdp_percpu(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&percpu_hits, &key);
	if (v)
		*v += 1;
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 *c = bpf_map_lookup_elem(&xdp_by_cpu, &cpu);
	if (c)
		__sync_fetch_and_add(c, 1);
	return XDP_PASS;
}

SEC("kprobe/ip_rcv")
int BPF_KPROBE(ip_rcv_percpu, struct sk_buff *skb)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&percpu_hits, &key);
	if (v)
		*v += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
