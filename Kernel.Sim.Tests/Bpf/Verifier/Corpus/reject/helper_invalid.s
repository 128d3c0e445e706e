# expect: reject invalid func unknown#1000
call 1000
r0 = 0
exit
