# expect: reject last insn is not an exit or jmp
r0 = 0
if r0 == 0 goto -2
