# type: socket_filter
# expect: reject R1 type=ctx expected=map_ptr
call 1
r0 = 0
exit
