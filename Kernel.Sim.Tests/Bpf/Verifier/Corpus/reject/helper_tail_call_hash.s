# map: hash key=4 value=8 entries=16
# type: socket_filter
# expect: reject cannot pass map_type 1 into func bpf_tail_call#12
r2 = map[0] ll
r3 = 0
call 12
r0 = 0
exit
