# mem: 8
# expect: accept
r6 = r1
call f
r0 = *(u64 *)(r6 + 0)
exit
f:
r0 = 0
exit
