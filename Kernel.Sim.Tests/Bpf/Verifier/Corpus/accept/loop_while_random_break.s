# expect: accept
r6 = 0
call 7
if r0 == 5 goto +2
r6 += 1
if r6 < 10 goto -4
r0 = r6
exit
