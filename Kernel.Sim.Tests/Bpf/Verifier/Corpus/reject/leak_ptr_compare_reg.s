# type: socket_filter
# unpriv
# expect: reject R10 pointer comparison prohibited
r0 = 0
r2 = 5
if r2 > r10 goto +0
exit
