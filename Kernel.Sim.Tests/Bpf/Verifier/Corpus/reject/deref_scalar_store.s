# expect: reject R2 invalid mem access 'scalar'
r2 = 0
*(u64 *)(r2 + 0) = r2
r0 = 0
exit
