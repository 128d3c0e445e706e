#!/bin/sh
# Builds the default probes of `kernelsim run` (embedded in the kernelsim assembly):
#   clang-14 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I bpf/include
# Installs libbpf-dev (for <bpf/bpf_helpers.h> ...) with apt-get when its headers are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CLANG=${CLANG:-clang-14}
sh "$here/../../scripts/ensure-libbpf-dev.sh"
cd "$here"
"$CLANG" -target bpf -O2 -g -D__TARGET_ARCH_x86 -I ../include -fdebug-prefix-map="$here"=. -c path_probes.c -o path_probes.o
