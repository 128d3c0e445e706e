#include "common.h"

/* __builtin_bswap16/32/64 compile to be16/be32/be64 (BPF_END | BPF_TO_BE) on little-endian BPF. */
SEC("socket")
int swaps(struct packet *pkt)
{
    u16 a = (u16)pkt->len;
    u32 b = pkt->proto;
    u64 c = ((u64)pkt->len << 32) | pkt->proto;
    a = __builtin_bswap16(a);
    b = __builtin_bswap32(b);
    c = __builtin_bswap64(c);
    return (int)(a ^ b ^ (u32)c ^ (u32)(c >> 32));
}
