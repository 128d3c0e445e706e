#!/bin/sh
# Builds the verifier benchmark objects next to their sources (the same flags as Bpf/Elf/Programs/build.sh):
#   clang-14 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I ../../../../bpf/include
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
for src in *.c; do
	clang-14 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I ../../../../bpf/include -fdebug-prefix-map="$here"=. -c "$src" -o "$(basename "$src" .c).o"
done
