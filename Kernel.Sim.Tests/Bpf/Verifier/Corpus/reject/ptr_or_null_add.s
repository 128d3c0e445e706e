# map: hash key=4 value=8 entries=16
# expect: reject R0 pointer arithmetic on map_value_or_null prohibited, null-check it first
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
r0 += 4
r0 = 0
exit
