# mem: 64
# expect: accept
r2 = *(u64 *)(r1 + 0)
w2 &= 63
r1 += r2
r0 = *(u8 *)(r1 + 0)
exit
