# map: hash key=4 value=8 entries=16
# type: socket_filter
# expect: reject R2 !read_ok
r1 = map[0] ll
call 1
r0 = 0
exit
