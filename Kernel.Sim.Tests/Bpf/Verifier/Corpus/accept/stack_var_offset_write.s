# mem: 4
# expect: accept
r2 = *(u32 *)(r1 + 0)
r2 &= 24
r3 = r10
r3 += -32
r3 += r2
r4 = 0
*(u64 *)(r3 + 0) = r4
r0 = 0
exit
