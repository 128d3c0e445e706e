# expect: reject div by zero
r0 = 1
r0 /= 0
exit
