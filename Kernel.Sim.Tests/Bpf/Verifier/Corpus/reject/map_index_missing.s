# expect: reject map index 3 is out of range
r1 = map[3] ll
r0 = 0
exit
