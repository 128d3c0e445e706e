# type: socket_filter
# expect: reject program of this type cannot use helper bpf_probe_read#4
call 4
r0 = 0
exit
