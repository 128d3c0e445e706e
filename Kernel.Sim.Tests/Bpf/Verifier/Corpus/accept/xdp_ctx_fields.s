# type: xdp
# expect: accept
r0 = *(u32 *)(r1 + 12)
r2 = *(u32 *)(r1 + 16)
r0 += r2
exit
