# type: socket_filter
# unpriv
# expect: reject program of this type cannot use helper bpf_trace_printk#6
r1 = r10
r1 += -8
r2 = 8
call 6
r0 = 0
exit
