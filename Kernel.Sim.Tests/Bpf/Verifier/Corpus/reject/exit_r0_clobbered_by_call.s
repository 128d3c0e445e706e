# type: kprobe
# expect: reject R0 !read_ok
r0 = 0
call pc+1
exit
# sub-program: R0 of the caller is not an argument and the callee never sets it
r1 = 1
exit
