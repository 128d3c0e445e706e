# map: ringbuf key=0 value=0 entries=4096
# expect: accept
r1 = map[0] ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto +3
r1 = r0
r2 = 0
call 133
r0 = 0
exit
