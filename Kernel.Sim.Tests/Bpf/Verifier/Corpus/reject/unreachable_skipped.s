# expect: reject unreachable insn 1
goto +1
r0 = 1
r0 = 0
exit
