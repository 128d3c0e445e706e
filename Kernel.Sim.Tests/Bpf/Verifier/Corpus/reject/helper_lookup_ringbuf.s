# map: ringbuf key=0 value=0 entries=4096
# expect: reject cannot pass map_type 27 into func bpf_map_lookup_elem#1
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map[0] ll
call 1
r0 = 0
exit
