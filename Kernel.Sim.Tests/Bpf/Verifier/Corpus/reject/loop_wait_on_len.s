# type: socket_filter
# expect: reject infinite loop detected at insn
# While skb->len <= 100 nothing changes between two visits of the loop. Linux names insn 2 (its
# checkpoint at the jump), KernelSim insn 3 (the goto, where it finds the repeat): same verdict and message.
r6 = *(u32 *)(r1 + 0)
r0 = 0
if r6 > 100 goto +1
goto -2
exit
