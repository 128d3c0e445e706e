# map: hash key=4 value=8 entries=16
# type: socket_filter
# unpriv
# expect: accept
r1 = 0
*(u64 *)(r10 - 8) = r1
*(u64 *)(r10 - 16) = r1
r2 = r10
r2 += -8
r3 = r10
r3 += -16
r4 = 0
r1 = map[0] ll
call 2
r0 = 0
exit
