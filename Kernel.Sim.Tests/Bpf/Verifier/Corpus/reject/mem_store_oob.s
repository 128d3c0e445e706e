# mem: 8
# expect: reject invalid access to memory, mem_size=8 off=4 size=8
*(u64 *)(r1 + 4) = r2
r0 = 0
exit
