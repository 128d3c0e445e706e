# expect: reject BPF program is too large. Processed 1000001 insn
r0 = 0
r0 += 1
if r0 < 2000000 goto -2
exit
