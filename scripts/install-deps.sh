#!/usr/bin/env bash
# Installs what zanj-cpp needs to build, test and run its examples (Debian 12, as root or with
# sudo), plus any further Debian packages given as arguments (bench/install-deps.sh does).
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config
  nlohmann-json3-dev libxtensor-dev libzstd-dev libdeflate-dev   # the library
  libsimdjson-dev                                                 # the library: the JSON fast path
  libzip-dev catch2 python3-numpy unzip zip p7zip-full            # tests: reference readers and writers
  python3-pandas python3-scipy                                    # tests: DataFrames and sparse matrices both ways
  libcli11-dev                                                    # the zanj command-line tool
  clang-14 clang-format-14                                        # tests: headers under a second compiler, format drift
  "$@"
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
