# expect: reject invalid write to stack R2 off=-520 size=8
r2 = r10
r2 += -512
r1 = 0
*(u64 *)(r2 - 8) = r1
r0 = 0
exit
