# expect: accept
r1 = 1
call f
r1 = 2
call f
r0 = 0
exit
f:
r0 = r1
exit
