# type: socket_filter
# expect: reject invalid shift -1
r0 = 1
# r0 <<= -1
.quad 0xffffffff00000067
exit
