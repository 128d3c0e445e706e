# map: prog_array key=4 value=4 entries=4
# type: socket_filter
# expect: accept
r2 = map[0] ll
r3 = 0
call 12
r0 = 0
exit
