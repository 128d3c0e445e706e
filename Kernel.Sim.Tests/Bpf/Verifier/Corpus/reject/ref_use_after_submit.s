# type: socket_filter
# map: ringbuf key=0 value=0 entries=4096
# expect: reject R6 invalid mem access 'scalar'
r1 = map[0] ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto +6
r6 = r0
r1 = r0
r2 = 0
call 132
r0 = *(u64 *)(r6 + 0)
r0 = 0
exit
