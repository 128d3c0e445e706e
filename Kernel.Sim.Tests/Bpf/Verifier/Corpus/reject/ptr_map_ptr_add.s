# map: hash key=4 value=8 entries=16
# expect: reject R1 pointer arithmetic on map_ptr prohibited
r1 = map[0] ll
r1 += 8
r0 = 0
exit
