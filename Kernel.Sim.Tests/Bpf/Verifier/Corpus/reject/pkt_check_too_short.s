# type: xdp
# expect: reject invalid access to packet, off=2 size=4, R2(id=0,off=2,r=4)
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 4
if r4 > r3 goto +1
r0 = *(u32 *)(r2 + 2)
r0 = 2
exit
