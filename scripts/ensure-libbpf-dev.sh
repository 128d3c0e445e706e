#!/bin/sh
# Installs Debian's libbpf-dev (<bpf/bpf_helpers.h>, <bpf/bpf_tracing.h>, ...) when its headers are missing.
# Called by every script that compiles BPF C sources, so no one installs it by hand.
set -eu
if [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	echo "ensure-libbpf-dev: libbpf-dev headers missing, installing" >&2
	(apt-get install -y libbpf-dev || (apt-get update && apt-get install -y libbpf-dev)) >&2
fi
