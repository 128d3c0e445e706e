# expect: reject jump out of range from insn 1 to 103
r0 = 0
if r0 > 1 goto +101
exit
