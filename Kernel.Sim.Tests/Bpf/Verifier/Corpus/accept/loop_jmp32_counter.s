# expect: accept
w1 = 0
w0 = 0
w0 += w1
w1 += 1
if w1 < 20 goto -3
exit
