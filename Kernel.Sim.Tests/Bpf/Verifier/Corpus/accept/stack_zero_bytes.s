# type: socket_filter
# unpriv
# expect: accept
r1 = 0
*(u32 *)(r10 - 4) = r1
*(u32 *)(r10 - 8) = r1
r0 = *(u64 *)(r10 - 8)
exit
