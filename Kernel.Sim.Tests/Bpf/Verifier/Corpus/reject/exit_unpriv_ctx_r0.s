# type: socket_filter
# unpriv
# expect: reject R0 leaks addr as return value
r0 = r1
exit
