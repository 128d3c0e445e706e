# map: hash key=4 value=8 entries=16
# type: socket_filter
# unpriv
# expect: reject invalid indirect read from stack R2 off -8+0 size 4
r1 = 0
*(u64 *)(r10 - 16) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
r0 = 0
exit
