# map: hash key=4 value=8 entries=16
# expect: accept
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
if r0 == 0 goto +4
*(u64 *)(r10 - 16) = r0
r0 = 0
r6 = *(u64 *)(r10 - 16)
r1 = *(u64 *)(r6 + 0)
r0 = 0
exit
