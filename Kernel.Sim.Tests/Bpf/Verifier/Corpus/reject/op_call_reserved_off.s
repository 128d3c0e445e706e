# type: socket_filter
# expect: reject BPF_CALL uses reserved fields
# call bpf_get_prandom_u32#7 with off = 1
.quad 0x0000000700010085
exit
