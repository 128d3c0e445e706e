# type: socket_filter
# expect: reject BPF_ALU uses reserved fields
r0 = 0
# r0 += 1 with off = 1 (only sdiv/smod may set off)
.quad 0x0000000100010007
exit
