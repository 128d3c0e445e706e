#include "common.h"

/* 64-bit constants that need lddw, and ones that fit a 32-bit mov. */
SEC("socket")
int constants(struct packet *pkt)
{
    u64 x = pkt->len;
    x *= 0x9e3779b97f4a7c15ULL;
    x ^= 0xff51afd7ed558ccdULL;
    x += 0x100000000ULL;
    x &= 0x7fffffffffffffffULL;
    x |= 0xffffffff80000000ULL;
    x -= 0x12345678;
    return (int)(x >> 17);
}
