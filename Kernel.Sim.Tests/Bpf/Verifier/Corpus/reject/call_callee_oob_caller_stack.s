# expect: reject invalid write to stack R1 off=0 size=8
r1 = r10
r1 += -8
call f
r0 = 0
exit
f:
r2 = 0
*(u64 *)(r1 + 8) = r2
r0 = 0
exit
