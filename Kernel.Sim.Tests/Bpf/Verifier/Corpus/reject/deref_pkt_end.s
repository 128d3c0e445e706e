# type: xdp
# expect: reject R3 invalid mem access 'pkt_end'
r3 = *(u32 *)(r1 + 4)
r0 = *(u8 *)(r3 + 0)
exit
