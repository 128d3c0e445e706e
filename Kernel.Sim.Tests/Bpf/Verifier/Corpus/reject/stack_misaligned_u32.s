# expect: reject misaligned stack access off (0x0; 0x0)+-8+2 size 4
r2 = r10
r2 += -8
r1 = 0
*(u32 *)(r2 + 2) = r1
r0 = 0
exit
