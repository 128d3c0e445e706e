# type: kprobe
# expect: reject invalid indirect access to stack R1 off=-16 size=32
r1 = r10
r1 += -16
r2 = 32
r3 = 0
call 113
r0 = 0
exit
