# type: socket_filter
# unpriv
# expect: accept
*(u64 *)(r10 - 8) = 0
r0 = *(u64 *)(r10 - 8)
exit
