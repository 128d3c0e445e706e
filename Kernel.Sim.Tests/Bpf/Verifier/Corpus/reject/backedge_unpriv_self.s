# type: socket_filter
# unpriv
# expect: reject back-edge from insn 1 to 1
r0 = 0
if r0 > 5 goto -1
exit
