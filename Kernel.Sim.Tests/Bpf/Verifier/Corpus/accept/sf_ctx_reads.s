# type: socket_filter
# unpriv
# expect: accept
r2 = *(u32 *)(r1 + 0)
r3 = *(u16 *)(r1 + 16)
r4 = *(u8 *)(r1 + 4)
r0 = *(u32 *)(r1 + 48)
r0 += r2
exit
