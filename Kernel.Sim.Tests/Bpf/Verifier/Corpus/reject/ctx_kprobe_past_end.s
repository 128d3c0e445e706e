# type: kprobe
# expect: reject invalid bpf_context access off=168 size=8
r0 = *(u64 *)(r1 + 168)
exit
