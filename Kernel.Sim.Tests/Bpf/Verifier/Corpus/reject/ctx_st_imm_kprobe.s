# type: kprobe
# expect: reject invalid bpf_context access off=0 size=8
*(u64 *)(r1 + 0) = 1
r0 = 0
exit
