# expect: accept
r1 = 42
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
*(u64 *)(r10 - 16) = r2
r3 = *(u64 *)(r10 - 16)
r0 = *(u64 *)(r3 + 0)
exit
