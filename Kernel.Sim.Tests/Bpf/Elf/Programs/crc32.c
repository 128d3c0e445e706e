// CRC-32 (zlib's, reflected polynomial 0xedb88320) of the first 64 bytes of a packet, with one call of a
// no-inline per-byte function per byte (64 bpf-to-bpf calls), branch-free per bit: the JIT's comparison with the
// host kernel's x86-64 JIT (docs/jit.md, Figures). Both loops are unrolled so the host verifier stays far from its
// instruction limit; a packet shorter than 64 bytes returns XDP_PASS.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

static __noinline __u32 crc_byte(__u32 crc, __u32 byte)
{
	crc ^= byte;
#pragma unroll
	for (int bit = 0; bit < 8; bit++)
		crc = (crc >> 1) ^ (0xedb88320 & (0u - (crc & 1)));
	return crc;
}

SEC("xdp")
int crc32_xdp(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if ((void *)(data + 64) > data_end)
		return XDP_PASS;
	__u32 crc = 0xffffffff;
#pragma unroll
	for (int i = 0; i < 64; i++)
		crc = crc_byte(crc, data[i]);
	return ~crc;
}

char LICENSE[] SEC("license") = "GPL";
