# type: kprobe
# expect: accept
r0 = *(u64 *)(r1 + 0)
r2 = *(u64 *)(r1 + 160)
r3 = *(u32 *)(r1 + 164)
r0 += r2
exit
