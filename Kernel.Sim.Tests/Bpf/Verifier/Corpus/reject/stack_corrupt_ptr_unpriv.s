# type: socket_filter
# unpriv
# expect: reject attempt to corrupt spilled pointer on stack
*(u64 *)(r10 - 8) = r1
r2 = 0
*(u32 *)(r10 - 8) = r2
r0 = 0
exit
