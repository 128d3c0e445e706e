# type: socket_filter
# expect: reject invalid bpf_ld_imm64 insn
# lddw r0 whose second half carries an opcode
.quad 0x0000000100000018
.quad 0x0000000000000007
exit
