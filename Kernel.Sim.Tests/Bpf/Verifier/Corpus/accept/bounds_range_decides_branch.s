# mem: 4
# expect: accept
r2 = *(u8 *)(r1 + 0)
if r2 < 256 goto +2
r0 = *(u64 *)(r2 + 0)
exit
r0 = r2
exit
