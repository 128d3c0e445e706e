# expect: reject R4 !read_ok
r0 = *(u32 *)(r4 + 0)
exit
