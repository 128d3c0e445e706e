# expect: reject misaligned stack access off (0x0; 0x0)+0+-7 size 8
r1 = 0
*(u64 *)(r10 - 7) = r1
r0 = 0
exit
