#include "common.h"

/* Helper calls by number, with arguments on the stack (r10-relative stores and loads). */
SEC("socket")
int use_helpers(struct packet *pkt)
{
    u32 key = pkt->proto;
    u64 now = bpf_ktime_get_ns();
    long found = bpf_map_lookup_elem((void *)0, &key);
    u32 rnd = (u32)bpf_get_prandom_u32();
    char fmt[] = "n=%d";
    bpf_trace_printk(fmt, sizeof(fmt), rnd);
    long csum = bpf_csum_diff(pkt->data, 8, pkt->data + 8, 8, 0);
    return (int)(now ^ found ^ rnd ^ csum);
}
