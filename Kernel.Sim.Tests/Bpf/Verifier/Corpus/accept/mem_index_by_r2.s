# mem: 32
# expect: accept
r3 = *(u8 *)(r1 + 0)
r3 &= 31
r1 += r3
r0 = *(u8 *)(r1 + 0)
exit
