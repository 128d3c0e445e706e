# expect: reject R6 !read_ok
r6 = 1
call f
r0 = 0
exit
f:
r0 = r6
exit
