#!/bin/sh
# Builds the BPF fixture objects next to their sources:
#   clang-14 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I bpf/include
# Installs libbpf-dev (for <bpf/bpf_helpers.h> ...) with apt-get when its headers are missing.
# Usage: build.sh [OUTDIR]   (default: this directory)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
CLANG=${CLANG:-clang-14}
OBJCOPY=${OBJCOPY:-llvm-objcopy-14}
sh "$here/../../../../scripts/ensure-libbpf-dev.sh"
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Relative source and include paths plus a prefix map keep the checkout's location out of the debug info
# and BTF line info, so a rebuild anywhere is byte-identical to the committed objects.
cd "$here"
for src in *.c; do
	name=$(basename "$src" .c)
	"$CLANG" -target bpf -O2 -g -D__TARGET_ARCH_x86 -I ../../../../bpf/include \
		-fdebug-prefix-map="$here"=. -c "$src" -o "$out/$name.o"
done
# Objects from older clang had no function symbols: strip them so the loader must take whole sections.
"$OBJCOPY" --strip-symbol=old_xdp --strip-symbol=old_socket "$out/old_style.o"
