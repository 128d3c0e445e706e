# type: socket_filter
# expect: reject infinite loop detected
r6 = *(u32 *)(r1 + 0)
r7 = 0
if r7 > 3 goto +2
r6 += 0
goto -3
r0 = 0
exit
