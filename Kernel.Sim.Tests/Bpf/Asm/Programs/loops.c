#include "common.h"

/* A bounded checksum loop over the context and a nested loop: backward jumps and 64-bit ALU. */
SEC("socket")
int checksum(struct packet *pkt)
{
    u64 sum = 0;
    for (int i = 0; i < 64; i++)
        sum += (u64)pkt->data[i] * (i + 1);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            sum ^= (sum << 7) + (u64)(i * j);
    return (int)(sum ^ (sum >> 32));
}
