// bpf_printk (trace_printk with a format in .rodata.str1.1) from a tracepoint, with a counter in .bss.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 printed;

SEC("tracepoint/sched/sched_process_exec")
int say_hello(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	printed++;
	bpf_printk("hello from pid %u, call %llu", pid, printed);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
