# type: socket_filter
# expect: reject BPF_JMP/JMP32 uses reserved fields
r0 = 0
# if r0 == 0 goto +0 (BPF_K) with src_reg = 1
.quad 0x0000000000001015
exit
