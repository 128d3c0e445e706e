# mem: 16
# expect: accept
r2 = 3
r2 *= 4
r1 += r2
r0 = *(u32 *)(r1 + 0)
exit
