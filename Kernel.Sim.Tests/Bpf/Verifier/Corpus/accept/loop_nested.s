# expect: accept
r0 = 0
r1 = 0
r2 = 0
r0 += 1
r2 += 1
if r2 < 4 goto -3
r1 += 1
if r1 < 4 goto -6
exit
