# map: hash key=4 value=8 entries=16
# expect: reject math between map_value pointer and register with unbounded min value is not allowed
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
if r0 == 0 goto +5
r1 = *(u64 *)(r0 + 0)
if w1 > 4 goto +2
r0 += r1
r1 = *(u8 *)(r0 + 0)
r0 = 0
exit
