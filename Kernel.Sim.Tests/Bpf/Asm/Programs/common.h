/* Shared by the agreement-test programs: section macro and helpers called by number (no BTF, no maps, so the
 * objects carry no map relocations). */
#ifndef KERNELSIM_AGREEMENT_COMMON_H
#define KERNELSIM_AGREEMENT_COMMON_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed int s32;
typedef signed long long s64;

#define SEC(name) __attribute__((section(name), used))

static long (*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_ktime_get_ns)(void) = (void *)5;
static long (*bpf_trace_printk)(const char *fmt, u32 size, ...) = (void *)6;
static long (*bpf_get_prandom_u32)(void) = (void *)7;
static long (*bpf_csum_diff)(void *from, u32 from_size, void *to, u32 to_size, u32 seed) = (void *)28;

struct packet {
    u32 len;
    u32 proto;
    u8 data[64];
};

#endif
