// Several programs in one section and one per common section name (kretprobe, fentry, fexit, tc, raw_tp),
// plus a static entry function.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/do_sys_open")
int open_a(struct pt_regs *ctx)
{
	return 1;
}

SEC("kprobe/do_sys_open")
int open_b(struct pt_regs *ctx)
{
	return 2;
}

SEC("kretprobe/do_sys_open")
int BPF_KRETPROBE(open_ret, long ret)
{
	return ret < 0;
}

SEC("fentry/ip_rcv")
int fentry_ip_rcv(void *ctx)
{
	return 0;
}

SEC("fexit/ip_rcv")
int fexit_ip_rcv(void *ctx)
{
	return 0;
}

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	return 0;
}

SEC("raw_tp/sched_switch")
int raw_switch(void *ctx)
{
	return 0;
}

SEC("socket")
static __attribute__((used)) int static_entry(struct __sk_buff *skb)
{
	return 5;
}

SEC("weird_section")
int untyped(void *ctx)
{
	return 9;
}

char LICENSE[] SEC("license") = "GPL";
