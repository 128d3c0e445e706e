# map: ringbuf key=0 value=0 entries=4096
# expect: reject Unreleased reference id=1 alloc_insn=4
r1 = map[0] ll
r2 = 8
r3 = 0
call 131
r0 = 0
exit
