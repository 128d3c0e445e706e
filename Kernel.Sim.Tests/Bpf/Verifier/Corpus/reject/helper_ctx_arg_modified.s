# map: perf_event_array key=4 value=4 entries=4
# type: kprobe
# expect: reject dereference of modified ctx ptr R1 off=8 disallowed
r1 += 8
r2 = map[0] ll
r3 = 0
r4 = r10
r4 += -8
r5 = 0
call 25
r0 = 0
exit
