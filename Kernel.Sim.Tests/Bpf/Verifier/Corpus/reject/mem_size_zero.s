# mem: 0
# expect: reject invalid access to memory, mem_size=0 off=0 size=1
r0 = *(u8 *)(r1 + 0)
exit
