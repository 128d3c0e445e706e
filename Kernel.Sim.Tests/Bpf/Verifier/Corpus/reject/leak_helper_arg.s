# map: hash key=4 value=8 entries=16
# type: socket_filter
# unpriv
# expect: reject R4 leaks addr into helper function
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r3 = r10
r3 += -8
r4 = r10
r1 = map[0] ll
call 2
r0 = 0
exit
