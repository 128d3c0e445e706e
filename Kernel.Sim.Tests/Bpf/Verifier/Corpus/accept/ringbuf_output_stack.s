# map: ringbuf key=0 value=0 entries=4096
# expect: accept
r1 = 5
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r3 = 8
r4 = 0
r1 = map[0] ll
call 130
r0 = 0
exit
