# type: socket_filter
# map: ringbuf key=0 value=0 entries=4096
# expect: reject Unreleased reference id=1 alloc_insn=5
r6 = *(u32 *)(r1 + 0)
r1 = map[0] ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto +5
if r6 > 64 goto +4
r1 = r0
r2 = 0
call 132
r0 = 0
exit
