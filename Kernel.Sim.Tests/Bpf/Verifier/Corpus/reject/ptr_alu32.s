# type: socket_filter
# expect: reject R1 32-bit pointer arithmetic prohibited
w1 += 4
r0 = 0
exit
