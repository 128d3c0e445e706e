# expect: reject math between fp pointer and 536870912 is not allowed
r1 = r10
r1 += 536870912
r0 = 0
exit
