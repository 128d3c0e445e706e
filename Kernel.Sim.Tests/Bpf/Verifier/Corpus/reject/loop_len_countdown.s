# type: socket_filter
# expect: reject The sequence of 8193 jumps is too complex.
# Counts skb->len down to 0 one by one: every iteration is a new state (no two bounds alike), so the
# exploration never converges; the jump history of one path outgrows its limit (8192) first.
r0 = *(u32 *)(r1 + 0)
r2 = 0
if r0 == 0 goto +3
r0 -= 1
r2 += 1
goto -4
r0 = r2
exit
