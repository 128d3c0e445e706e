# type: socket_filter
# unpriv
# expect: accept
r2 = 5
*(u32 *)(r1 + 48) = r2
*(u64 *)(r1 + 56) = r2
r0 = 0
exit
