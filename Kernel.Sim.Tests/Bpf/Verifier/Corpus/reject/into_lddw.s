# expect: reject jump into the middle of ldimm64 insn 1
goto +1
r0 = 0x100000000 ll
exit
