#include "common.h"

/* __sync builtins: lock add (result unused), fetch-and-add, fetch-and-or/xor/and, exchange, compare-and-swap. */
SEC("socket")
int counters(struct packet *pkt)
{
    u64 big = pkt->len;
    u32 small = pkt->proto;
    __sync_fetch_and_add(&big, 5);
    u64 old = __sync_fetch_and_add(&big, pkt->len);
    u32 old32 = __sync_fetch_and_add(&small, 3);
    old ^= __sync_fetch_and_or(&big, 0x10);
    old ^= __sync_fetch_and_xor(&big, 0x20);
    old ^= __sync_fetch_and_and(&big, 0xff0);
    old32 ^= __sync_fetch_and_or(&small, 0x4);
    old ^= __sync_lock_test_and_set(&big, 77);
    old ^= __sync_val_compare_and_swap(&big, 77, 78);
    old32 ^= __sync_val_compare_and_swap(&small, 9, 10);
    __sync_fetch_and_and(&small, 0xffff);
    __sync_fetch_and_or(&small, 0x100);
    __sync_fetch_and_xor(&small, 0x3);
    return (int)(old ^ old32 ^ big ^ small);
}
