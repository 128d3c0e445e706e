# expect: reject infinite loop detected
r0 = 0
r0 += 0
if r0 < 10 goto -2
exit
