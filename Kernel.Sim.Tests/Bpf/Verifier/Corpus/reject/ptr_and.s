# type: socket_filter
# expect: reject R1 bitwise operator &= on pointer prohibited
r1 &= 255
r0 = 0
exit
