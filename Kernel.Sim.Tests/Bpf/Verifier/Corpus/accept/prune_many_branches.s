# expect: accept
r0 = 0
call 7
r6 = r0
r0 = 0
if r6 & 1 goto +1
r0 += 1
if r6 & 2 goto +1
r0 += 1
if r6 & 4 goto +1
r0 += 1
if r6 & 8 goto +1
r0 += 1
if r6 & 16 goto +1
r0 += 1
if r6 & 32 goto +1
r0 += 1
if r6 & 64 goto +1
r0 += 1
if r6 & 128 goto +1
r0 += 1
if r6 & 256 goto +1
r0 += 1
if r6 & 512 goto +1
r0 += 1
if r6 & 1024 goto +1
r0 += 1
if r6 & 2048 goto +1
r0 += 1
if r6 & 4096 goto +1
r0 += 1
if r6 & 8192 goto +1
r0 += 1
if r6 & 16384 goto +1
r0 += 1
if r6 & 32768 goto +1
r0 += 1
if r6 & 65536 goto +1
r0 += 1
if r6 & 131072 goto +1
r0 += 1
if r6 & 262144 goto +1
r0 += 1
if r6 & 524288 goto +1
r0 += 1
exit
