# type: socket_filter
# unpriv
# expect: reject R1 pointer arithmetic prohibited
r1 = -r1
r0 = 0
exit
