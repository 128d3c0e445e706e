# map: ringbuf key=0 value=0 entries=4096
# mem: 4
# expect: reject R2 is not a known constant
r2 = *(u32 *)(r1 + 0)
r1 = map[0] ll
r3 = 0
call 131
r0 = 0
exit
