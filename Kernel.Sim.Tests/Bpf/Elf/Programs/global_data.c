// Global data: const volatile in .rodata (set before load), initialised .data, zeroed .bss.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 multiplier = 3;
const volatile __u64 offset_rodata = 1000;
__u64 data_counter = 5;
__u32 bss_calls;
__u64 bss_last;

SEC("raw_tracepoint/sched_switch")
int use_globals(void *ctx)
{
	bss_calls++;
	data_counter += multiplier;
	bss_last = data_counter * multiplier + offset_rodata;
	return (int)(bss_last & 0x7fffffff);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
