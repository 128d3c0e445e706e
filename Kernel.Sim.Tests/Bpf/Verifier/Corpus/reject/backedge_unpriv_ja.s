# type: socket_filter
# unpriv
# expect: reject back-edge from insn 3 to 1
r0 = 0
if r0 > 5 goto +2
r0 += 1
goto -3
exit
