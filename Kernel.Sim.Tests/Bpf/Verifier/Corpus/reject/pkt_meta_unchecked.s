# type: xdp
# expect: reject invalid access to packet
r2 = *(u32 *)(r1 + 8)
r0 = *(u8 *)(r2 + 0)
r0 = 0
exit
