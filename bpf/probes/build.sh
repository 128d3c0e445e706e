#!/bin/sh
# Builds the probe objects next to their sources: path_probes.o (the default probes of `kernelsim run`, embedded in
# the kernelsim assembly) and the examples for `kernelsim run --bpf`:
#   clang-14 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I bpf/include
# Installs libbpf-dev (for <bpf/bpf_helpers.h> ...) with apt-get when its headers are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CLANG=${CLANG:-clang-14}
sh "$here/../../scripts/ensure-libbpf-dev.sh"
cd "$here"
for src in *.c; do
	"$CLANG" -target bpf -O2 -g -D__TARGET_ARCH_x86 -I ../include -fdebug-prefix-map="$here"=. -c "$src" -o "$(basename "$src" .c).o"
done
