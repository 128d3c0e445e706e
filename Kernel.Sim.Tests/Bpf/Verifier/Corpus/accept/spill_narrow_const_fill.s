# type: socket_filter
# expect: accept
# A 4-byte immediate stored at a slot boundary is spilled with its value; the byte filled back is known,
# so the loop exits after one pass (Linux >= 6.8 narrow spills).
r9 = 0
*(u32 *)(r10 - 16) = -592
r5 = *(u8 *)(r10 - 16)
r9 += 1
if r5 < 5 goto -4
r0 = 0
exit
