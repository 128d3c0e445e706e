# expect: reject invalid func unknown#-3
call -3
r0 = 0
exit
