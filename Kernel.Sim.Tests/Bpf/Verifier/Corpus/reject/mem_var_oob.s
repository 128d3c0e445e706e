# mem: 16
# expect: reject R1 max value is outside of the allowed memory range
r3 = *(u8 *)(r1 + 0)
r3 &= 31
r1 += r3
r0 = *(u8 *)(r1 + 0)
exit
