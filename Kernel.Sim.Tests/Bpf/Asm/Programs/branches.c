#include "common.h"

/* Signed and unsigned comparisons against immediates and registers, 64- and 32-bit. */
SEC("socket")
int classify(struct packet *pkt)
{
    s64 a = (s64)pkt->len - 100;
    u64 b = pkt->proto;
    int r = 0;
    if (a < -5)
        r |= 1;
    if (a >= 1000)
        r |= 2;
    if (b > 17)
        r |= 4;
    if (b <= (u64)a)
        r |= 8;
    if ((s32)pkt->proto < (s32)pkt->len)
        r |= 16;
    if (pkt->proto != 6 && pkt->proto != 17)
        r |= 32;
    if (pkt->len & 0x80)
        r |= 64;
    return r;
}
