# type: xdp
# expect: accept
r0 = -1
exit
