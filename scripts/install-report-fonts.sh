#!/usr/bin/env bash
# Installs the font the report's PNG charts use (DejaVu Sans) on a Debian/Ubuntu machine that has none.
# SkiaSharp's NoDependencies build reads fonts from /usr/share/fonts directly; without any font the PNGs have no
# text (the SVGs are unaffected). `kernelsim report` warns in report.md when that happens.
set -euo pipefail
if fc-list 2>/dev/null | grep -q 'DejaVu Sans' || ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf >/dev/null 2>&1; then
  echo "DejaVu Sans is already installed"
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core
