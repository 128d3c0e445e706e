# expect: accept
r0 = 0
r1 = 16
r0 += 2
r1 += -1
if r1 != 0 goto -3
exit
