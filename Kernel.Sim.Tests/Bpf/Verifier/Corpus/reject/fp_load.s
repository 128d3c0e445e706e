# mem: 8
# expect: reject frame pointer is read only
r10 = *(u64 *)(r1 + 0)
r0 = 0
exit
