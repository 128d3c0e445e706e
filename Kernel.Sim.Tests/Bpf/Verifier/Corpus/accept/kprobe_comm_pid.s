# type: kprobe
# expect: accept
r1 = r10
r1 += -16
r2 = 16
call 16
call 14
r0 >>= 32
exit
