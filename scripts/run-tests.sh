#!/usr/bin/env bash
# Installs the dependencies, builds zanj-cpp with its tests and examples, and runs the whole
# suite through CTest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DZANJ_BUILD_TESTS=ON -DZANJ_BUILD_EXAMPLES=ON
cmake --build "$root/build"
cd "$root/build"
ctest --output-on-failure -j2 --timeout 600
