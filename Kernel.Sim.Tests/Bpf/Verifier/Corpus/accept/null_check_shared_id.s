# map: hash key=4 value=8 entries=16
# expect: accept
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
r6 = r0
if r0 == 0 goto +1
r1 = *(u32 *)(r6 + 0)
r0 = 0
exit
