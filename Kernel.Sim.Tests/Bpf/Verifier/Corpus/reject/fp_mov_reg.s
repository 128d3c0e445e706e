# expect: reject frame pointer is read only
r10 = r1
r0 = 0
exit
