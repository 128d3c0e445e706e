# map: hash key=4 value=8 entries=16
# type: socket_filter
# unpriv
# expect: accept
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
if r0 == 0 goto +2
r1 = 7
*(u64 *)(r0 + 0) = r1
r0 = 0
exit
