# expect: reject unreachable insn 2
r0 = 0
goto +2
exit
r0 = 1
exit
