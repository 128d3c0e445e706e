# map: hash key=16 value=8 entries=4
# expect: reject invalid indirect access to stack R2 off=-8 size=16
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
r0 = 0
exit
