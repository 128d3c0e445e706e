# type: socket_filter
# unpriv
# expect: reject R10 partial copy of pointer
w0 = w10
r0 = 0
exit
