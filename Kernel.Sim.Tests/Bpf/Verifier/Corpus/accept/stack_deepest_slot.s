# expect: accept
r1 = 1
*(u64 *)(r10 - 512) = r1
r0 = *(u64 *)(r10 - 512)
exit
