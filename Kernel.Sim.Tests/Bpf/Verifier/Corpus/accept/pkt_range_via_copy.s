# type: xdp
# expect: accept
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r5 = r2
r4 = r2
r4 += 20
if r4 > r3 goto +2
r0 = *(u32 *)(r5 + 16)
*(u8 *)(r5 + 0) = r0
r0 = 2
exit
