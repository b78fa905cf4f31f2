#!/usr/bin/env bash
# Installs what the benchmark needs on top of the library's own dependencies (Debian 12, as root
# or with sudo): the peers it compares against and matplotlib for the chart.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh"
packages=(
  libhdf5-dev libcereal-dev libzip-dev libzstd-dev   # C++ peers
  python3-numpy python3-matplotlib                   # numpy's savez/load, and the chart
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
