// RINGBUF: reserve/submit one event, output a second, discard a third; returns 0 on success.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct event {
	__u32 pid;
	__u32 len;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("kprobe/netif_receive_skb")
int BPF_KPROBE(rb_event, struct sk_buff *skb)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 1;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->len = 64;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);

	struct event copy = { .pid = 1, .len = 2 };
	if (bpf_ringbuf_output(&events, &copy, sizeof(copy), 0))
		return 2;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 3;
	bpf_ringbuf_discard(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
