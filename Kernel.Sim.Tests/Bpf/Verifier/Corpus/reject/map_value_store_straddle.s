# type: socket_filter
# map: hash key=4 value=8 entries=16
# expect: reject invalid access to map value, value_size=8 off=4 size=8
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map[0] ll
call 1
if r0 == 0 goto +1
*(u64 *)(r0 + 4) = 1
r0 = 0
exit
