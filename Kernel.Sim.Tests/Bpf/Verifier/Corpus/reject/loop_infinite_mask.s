# expect: reject infinite loop detected
r1 = 0
r1 &= 1
if r1 < 2 goto -2
r0 = 0
exit
