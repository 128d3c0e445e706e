# mem: 4
# expect: reject misaligned stack access off (0x0; 0x7)+-16+0 size 8
r2 = *(u32 *)(r1 + 0)
r2 &= 7
r3 = r10
r3 += -16
r3 += r2
r4 = 0
*(u64 *)(r3 + 0) = r4
r0 = 0
exit
