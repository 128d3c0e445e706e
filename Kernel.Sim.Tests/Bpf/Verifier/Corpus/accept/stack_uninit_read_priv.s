# type: socket_filter
# expect: accept
r0 = *(u64 *)(r10 - 8)
r0 = 0
exit
