# type: kprobe
# expect: reject R2 min value is negative, either use unsigned index or do a if (index >=0) check.
r2 = *(u64 *)(r1 + 112)
if r2 s> 16 goto +4
r1 = r10
r1 += -16
r3 = 0
call 113
r0 = 0
exit
