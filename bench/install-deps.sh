#!/usr/bin/env bash
# Installs what the benchmark needs on top of the library's own dependencies (Debian 12, as root
# or with sudo): the C++ peers it compares against, numpy, and matplotlib for the chart.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh" \
  libhdf5-dev libcereal-dev libzip-dev libzstd-dev \
  python3-numpy python3-matplotlib
