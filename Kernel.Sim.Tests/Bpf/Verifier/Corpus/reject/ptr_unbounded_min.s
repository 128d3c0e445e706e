# mem: 8
# expect: reject math between mem pointer and register with unbounded min value is not allowed
r2 = *(u64 *)(r1 + 0)
r1 += r2
r0 = 0
exit
