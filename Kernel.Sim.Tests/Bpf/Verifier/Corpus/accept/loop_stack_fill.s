# expect: accept
r1 = 0
r2 = r10
r2 += -64
r3 = 0
*(u64 *)(r2 + 0) = r3
r2 += 8
r1 += 1
if r1 < 8 goto -5
r0 = *(u64 *)(r10 - 8)
exit
