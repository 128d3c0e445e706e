# type: socket_filter
# expect: reject unknown opcode 8f
r0 = 0
.quad 0x000000000000008f
exit
