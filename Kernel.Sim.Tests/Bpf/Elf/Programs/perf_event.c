// PERF_EVENT_ARRAY: bpf_perf_event_output to the current CPU's buffer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_out SEC(".maps");

SEC("kprobe/ip_rcv")
int BPF_KPROBE(perf_emit, struct sk_buff *skb)
{
	__u64 data[2] = { 0x1122334455667788ULL, bpf_ktime_get_ns() };

	return bpf_perf_event_output(ctx, &perf_out, BPF_F_CURRENT_CPU, data, sizeof(data));
}

char LICENSE[] SEC("license") = "GPL";
