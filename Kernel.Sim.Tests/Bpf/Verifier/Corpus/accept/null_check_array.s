# map: array key=4 value=8 entries=4
# expect: accept
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
if r0 != 0 goto +2
r0 = 1
exit
r1 = *(u64 *)(r0 + 0)
r0 = 0
exit
