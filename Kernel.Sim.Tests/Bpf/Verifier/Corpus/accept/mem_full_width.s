# mem: 8
# expect: accept
r0 = *(u64 *)(r1 + 0)
*(u64 *)(r1 + 0) = r0
exit
