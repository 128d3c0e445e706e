# map: ringbuf key=0 value=0 entries=4096
# expect: accept
r1 = map[0] ll
r2 = 16
r3 = 0
call 131
if r0 == 0 goto +5
r1 = 1
*(u64 *)(r0 + 8) = r1
r1 = r0
r2 = 0
call 132
r0 = 0
exit
