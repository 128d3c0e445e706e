# expect: reject combined stack size of 3 calls is
r1 = 0
*(u64 *)(r10 - 200) = r1
call f
r0 = 0
exit
f:
r1 = 0
*(u64 *)(r10 - 200) = r1
call g
r0 = 0
exit
g:
r1 = 0
*(u64 *)(r10 - 200) = r1
r0 = 0
exit
