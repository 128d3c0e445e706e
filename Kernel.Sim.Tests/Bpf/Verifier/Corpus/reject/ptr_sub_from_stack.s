# type: socket_filter
# expect: reject R1 subtraction from stack pointer prohibited
r1 = r10
r1 -= 8
r0 = 0
exit
