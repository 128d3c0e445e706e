# expect: reject R1 !read_ok
call 5
r0 = r1
exit
