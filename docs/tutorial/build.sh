#!/bin/sh
# Builds docs/tutorial/probe.o from probe.c (the committed probe.o lets the docs test run without clang):
#   clang-14 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I bpf/include -c probe.c -o probe.o
# Installs libbpf-dev (for <bpf/bpf_helpers.h>, <bpf/bpf_tracing.h>) with apt-get when its headers are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CLANG=${CLANG:-clang-14}
sh "$here/../../scripts/ensure-libbpf-dev.sh"
cd "$here"
# Relative paths plus a prefix map keep the checkout's location out of the debug info: rebuilds are byte-identical.
"$CLANG" -target bpf -O2 -g -D__TARGET_ARCH_x86 -I ../../bpf/include -fdebug-prefix-map="$here"=. -c probe.c -o probe.o
