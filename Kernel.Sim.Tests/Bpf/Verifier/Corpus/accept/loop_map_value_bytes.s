# map: array key=4 value=16 entries=1
# expect: accept
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
if r0 == 0 goto +8
r1 = 0
r2 = 0
r3 = r0
r3 += r1
r4 = *(u8 *)(r3 + 0)
r2 += r4
r1 += 1
if r1 < 16 goto -6
r0 = 0
exit
