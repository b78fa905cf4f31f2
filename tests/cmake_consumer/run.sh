#!/usr/bin/env bash
# Installs the built library into a scratch prefix, then configures, builds and runs this
# consumer against it with find_package(zanj CONFIG REQUIRED).
set -euo pipefail
build_dir="$1"; work="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rm -rf "$work"; mkdir -p "$work"
cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log"
cd "$work" && "$work/build/consumer"
