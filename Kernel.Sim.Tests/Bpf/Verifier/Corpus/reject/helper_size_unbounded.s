# type: kprobe
# expect: reject R2 unbounded memory access, use 'var &= const' or 'if (var < const)'
r2 = *(u32 *)(r1 + 112)
r1 = r10
r1 += -16
r3 = 0
call 113
r0 = 0
exit
