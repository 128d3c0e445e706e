# expect: reject jump into the middle of ldimm64 insn 0
r0 = 0x100000000 ll
r0 = 0
if r0 == 1 goto -3
exit
