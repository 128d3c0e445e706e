# mem: 4
# expect: reject invalid access to memory, mem_size=4 off=4 size=1
r0 = *(u8 *)(r1 + 4)
exit
