# type: kprobe
# expect: accept
*(u64 *)(r10 - 8) = r1
r1 = 0
r1 = *(u64 *)(r10 - 8)
r0 = *(u64 *)(r1 + 112)
exit
