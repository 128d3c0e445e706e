# type: socket_filter
# expect: reject div by zero
r0 = 10
r0 /= 0
exit
