# type: socket_filter
# unpriv
# expect: reject invalid read from stack off -8+4 size 8
r1 = 0
*(u32 *)(r10 - 8) = r1
r0 = *(u64 *)(r10 - 8)
r0 = 0
exit
