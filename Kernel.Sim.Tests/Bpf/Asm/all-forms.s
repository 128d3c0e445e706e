# Every instruction form of RFC 9669 and Linux, in the canonical text ConformanceDisassembler prints.
# The round-trip test assembles this file, disassembles the bytes and expects exactly these lines back.
# ALU64 and ALU (suffix 32), immediate and register sources
add %r1, -7
add %r1, %r2
sub %r1, -7
sub %r1, %r2
mul %r1, -7
mul %r1, %r2
div %r1, -7
div %r1, %r2
sdiv %r1, -7
sdiv %r1, %r2
or %r1, -7
or %r1, %r2
and %r1, -7
and %r1, %r2
lsh %r1, -7
lsh %r1, %r2
rsh %r1, -7
rsh %r1, %r2
mod %r1, -7
mod %r1, %r2
smod %r1, -7
smod %r1, %r2
xor %r1, -7
xor %r1, %r2
mov %r1, -7
mov %r1, %r2
arsh %r1, -7
arsh %r1, %r2
neg %r3
add32 %r1, -7
add32 %r1, %r2
sub32 %r1, -7
sub32 %r1, %r2
mul32 %r1, -7
mul32 %r1, %r2
div32 %r1, -7
div32 %r1, %r2
sdiv32 %r1, -7
sdiv32 %r1, %r2
or32 %r1, -7
or32 %r1, %r2
and32 %r1, -7
and32 %r1, %r2
lsh32 %r1, -7
lsh32 %r1, %r2
rsh32 %r1, -7
rsh32 %r1, %r2
mod32 %r1, -7
mod32 %r1, %r2
smod32 %r1, -7
smod32 %r1, %r2
xor32 %r1, -7
xor32 %r1, %r2
mov32 %r1, -7
mov32 %r1, %r2
arsh32 %r1, -7
arsh32 %r1, %r2
neg32 %r3
# sign-extending moves
movsx832 %r4, %r5
movsx1632 %r4, %r5
movsx864 %r4, %r5
movsx1664 %r4, %r5
movsx3264 %r4, %r5
# byte order
le16 %r6
le32 %r6
le64 %r6
be16 %r6
be32 %r6
be64 %r6
bswap16 %r6
bswap32 %r6
bswap64 %r6
# jumps (JMP and JMP32), ja, gotol
ja +3
ja -1
ja32 +100000
ja32 -2
jeq %r7, 2147483647, +1
jeq %r7, %r8, -32768
jgt %r7, 2147483647, +1
jgt %r7, %r8, -32768
jge %r7, 2147483647, +1
jge %r7, %r8, -32768
jset %r7, 2147483647, +1
jset %r7, %r8, -32768
jne %r7, 2147483647, +1
jne %r7, %r8, -32768
jsgt %r7, 2147483647, +1
jsgt %r7, %r8, -32768
jsge %r7, 2147483647, +1
jsge %r7, %r8, -32768
jlt %r7, 2147483647, +1
jlt %r7, %r8, -32768
jle %r7, 2147483647, +1
jle %r7, %r8, -32768
jslt %r7, 2147483647, +1
jslt %r7, %r8, -32768
jsle %r7, 2147483647, +1
jsle %r7, %r8, -32768
jeq32 %r7, 2147483647, +1
jeq32 %r7, %r8, -32768
jgt32 %r7, 2147483647, +1
jgt32 %r7, %r8, -32768
jge32 %r7, 2147483647, +1
jge32 %r7, %r8, -32768
jset32 %r7, 2147483647, +1
jset32 %r7, %r8, -32768
jne32 %r7, 2147483647, +1
jne32 %r7, %r8, -32768
jsgt32 %r7, 2147483647, +1
jsgt32 %r7, %r8, -32768
jsge32 %r7, 2147483647, +1
jsge32 %r7, %r8, -32768
jlt32 %r7, 2147483647, +1
jlt32 %r7, %r8, -32768
jle32 %r7, 2147483647, +1
jle32 %r7, %r8, -32768
jslt32 %r7, 2147483647, +1
jslt32 %r7, %r8, -32768
jsle32 %r7, 2147483647, +1
jsle32 %r7, %r8, -32768
# calls: helper, local, kfunc (call runtime, optional BTF fd index), callx; exit
call 1
call -1
call local +2
call local -5
call runtime 12345
call runtime 12345 3
call %r9
exit
# loads and stores
ldxb %r0, [%r1+32767]
ldxh %r0, [%r1+32767]
ldxw %r0, [%r1+32767]
ldxdw %r0, [%r1+32767]
ldxsb %r0, [%r10-8]
ldxsh %r0, [%r10-8]
ldxsw %r0, [%r10-8]
stb [%r10-32768], -1
sth [%r10-32768], -1
stw [%r10-32768], -1
stdw [%r10-32768], -1
stxb [%r1], %r2
stxh [%r1], %r2
stxw [%r1], %r2
stxdw [%r1], %r2
# atomics (W = suffix 32, DW bare)
lock add32 [%r10-8], %r1
lock fetch add32 [%r10-8], %r1
lock and32 [%r10-8], %r1
lock fetch and32 [%r10-8], %r1
lock or32 [%r10-8], %r1
lock fetch or32 [%r10-8], %r1
lock xor32 [%r10-8], %r1
lock fetch xor32 [%r10-8], %r1
lock xchg32 [%r10-8], %r1
lock cmpxchg32 [%r10-8], %r1
lock add [%r10-8], %r1
lock fetch add [%r10-8], %r1
lock and [%r10-8], %r1
lock fetch and [%r10-8], %r1
lock or [%r10-8], %r1
lock fetch or [%r10-8], %r1
lock xor [%r10-8], %r1
lock fetch xor [%r10-8], %r1
lock xchg [%r10-8], %r1
lock cmpxchg [%r10-8], %r1
# lddw: imm64 and the pseudo sources 1..6
lddw %r0, 0x1122334455667788
lddw %r1, map_fd 0x3
lddw %r1, map_value 0x1000000003
lddw %r1, btf_id 0x7b
lddw %r1, func 0x5
lddw %r1, map_idx 0x0
lddw %r1, map_idx_value 0x800000001
# legacy packet loads
ldabsb 12
ldindb %r2, -4
ldabsh 12
ldindh %r2, -4
ldabsw 12
ldindw %r2, -4
