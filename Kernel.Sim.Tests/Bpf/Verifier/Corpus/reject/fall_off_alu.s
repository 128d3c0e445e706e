# expect: reject last insn is not an exit or jmp
r0 = 0
exit
r0 += 1
