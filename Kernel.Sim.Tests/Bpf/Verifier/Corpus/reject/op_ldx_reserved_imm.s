# type: socket_filter
# expect: reject BPF_LDX uses reserved fields
*(u64 *)(r10 - 8) = r1
# r0 = *(u64 *)(r10 - 8) with imm = 1
.quad 0x00000001fff8a079
exit
