# type: socket_filter
# expect: reject invalid bpf_context access off=0 size=8
r0 = *(u64 *)(r1 + 0)
exit
