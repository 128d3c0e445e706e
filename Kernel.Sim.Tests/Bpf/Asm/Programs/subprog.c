#include "common.h"

/* A static noinline subprogram: a bpf-to-bpf call (src_reg 1) within the section. */
static __attribute__((noinline)) u64 scramble(u64 a, u64 b)
{
    a ^= b * 31;
    a = (a << 13) | (a >> 51);
    return a + b;
}

SEC("socket")
int caller(struct packet *pkt)
{
    u64 h = scramble(pkt->len, pkt->proto);
    h = scramble(h, 7);
    return (int)h;
}
