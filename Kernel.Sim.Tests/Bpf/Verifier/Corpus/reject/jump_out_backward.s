# expect: reject jump out of range from insn 1 to -4
r0 = 0
if r0 == 0 goto -6
exit
