# expect: reject R7 !read_ok
r0 = 0
if r7 > 3 goto +0
exit
