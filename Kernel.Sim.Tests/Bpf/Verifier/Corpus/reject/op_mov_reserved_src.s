# type: socket_filter
# expect: reject BPF_MOV uses reserved fields
# r0 = 1 (BPF_K) with src_reg = 1
.quad 0x00000001000010b7
exit
