# type: socket_filter
# unpriv
# expect: reject R1 pointer comparison prohibited
r0 = 0
if r1 > 100 goto +0
exit
