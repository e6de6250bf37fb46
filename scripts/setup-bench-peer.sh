#!/usr/bin/env bash
# Unpacks Debian's OpenBLAS (pthread build) into .cache/openblas for the PyTorch benchmark peer:
# Debian's python3-torch uses the reference BLAS by default, ~20x slower than OpenBLAS.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache/openblas
cd .cache/openblas
apt-get download libopenblas0-pthread
for f in libopenblas0-pthread_*.deb; do dpkg -x "$f" .; done
ls usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
