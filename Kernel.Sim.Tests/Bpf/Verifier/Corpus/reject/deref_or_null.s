# map: hash key=4 value=8 entries=16
# type: socket_filter
# expect: reject R0 invalid mem access 'map_value_or_null'
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
r1 = *(u32 *)(r0 + 0)
r0 = 0
exit
