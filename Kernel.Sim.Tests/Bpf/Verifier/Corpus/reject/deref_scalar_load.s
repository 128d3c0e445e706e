# expect: reject R1 invalid mem access 'scalar'
r1 = 5
r0 = *(u32 *)(r1 + 0)
exit
