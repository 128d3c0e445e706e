#!/bin/sh
# Rebuilds the agreement-test objects: ./build.sh (needs clang-14: apt-get install clang-14).
# The .o files are committed so the tests run without clang; LlvmAgreementTests rebuilds and compares when clang exists.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-14}
for src in *.c; do
    "$CLANG" -target bpf -O2 -mcpu=v3 -c "$src" -o "${src%.c}.o"
done
