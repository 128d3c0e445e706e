# type: socket_filter
# expect: reject invalid shift 32
w0 = 1
w0 s>>= 32
exit
