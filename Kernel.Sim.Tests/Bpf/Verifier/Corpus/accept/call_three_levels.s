# expect: accept
r1 = 1
call f
exit
f:
r1 += 1
call g
r0 += 1
exit
g:
r0 = r1
exit
