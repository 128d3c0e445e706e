# type: socket_filter
# expect: reject R0 !read_ok
r2 = *(u32 *)(r1 + 0)
if r2 > 5 goto +1
r0 = 0
exit
