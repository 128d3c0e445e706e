#include "common.h"

/* 32-bit arithmetic that -mcpu=v3 keeps in w registers: shifts, division, modulo, negation, arithmetic shift. */
SEC("socket")
int mix32(struct packet *pkt)
{
    u32 x = pkt->len;
    u32 y = pkt->proto | 1;
    s32 z = (s32)x;
    x = x * 2654435761u;
    x ^= x >> 15;
    x += y << 3;
    x = x / y + x % y;
    z = -z;
    z >>= 3;
    x -= (u32)z;
    x &= 0xfffff;
    if (x < y)
        x = y - x;
    return (int)x;
}
