# type: xdp
# expect: reject program of this type cannot use helper bpf_probe_read_str#45
call 45
r0 = 0
exit
