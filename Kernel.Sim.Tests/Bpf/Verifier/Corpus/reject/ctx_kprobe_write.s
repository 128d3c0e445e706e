# type: kprobe
# expect: reject invalid bpf_context access off=112 size=8
r2 = 0
*(u64 *)(r1 + 112) = r2
r0 = 0
exit
