# type: socket_filter
# expect: accept
r0 = 0
if r1 > 1000 goto +1
r0 = 1
exit
