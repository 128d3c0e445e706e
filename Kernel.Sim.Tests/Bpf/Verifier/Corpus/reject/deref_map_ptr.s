# map: hash key=4 value=8 entries=16
# expect: reject R1 invalid mem access 'map_ptr'
r1 = map[0] ll
r0 = *(u32 *)(r1 + 0)
exit
