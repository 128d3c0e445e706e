# type: socket_filter
# expect: reject BPF_ST stores into R1 ctx is not allowed
*(u32 *)(r1 + 48) = 1
r0 = 0
exit
