# map: perf_event_array key=4 value=4 entries=4
# type: kprobe
# expect: accept
r6 = 7
*(u64 *)(r10 - 8) = r6
r2 = map[0] ll
r3 = 0xffffffff ll
r4 = r10
r4 += -8
r5 = 8
call 25
r0 = 0
exit
