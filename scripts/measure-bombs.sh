#!/usr/bin/env bash
# Measures how fast, and in how little memory, zanj refuses zip bombs (docs/robustness.md):
# builds libzanj (Release) unless a build folder is given, compiles bench/bombs.cpp against it,
# builds the bombs (a 40 GB-of-zeros deflate member, David Fifield's overlapping bombs) in a
# scratch folder, and reads each three times in a fresh process, printing the time of the read
# and the process's peak resident memory.
#
#   bash scripts/measure-bombs.sh [build folder] [scratch folder]
#
# Needs what the library needs, plus zlib (zlib1g-dev) for the 40 GB stream. The bombs take
# about 120 MB of disk.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-bombs}"
scratch="${2:-$build/bombs}"

if [[ ! -f "$build/libzanj.a" ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DZANJ_BUILD_TESTS=OFF \
        -DZANJ_BUILD_EXAMPLES=OFF -DZANJ_BUILD_TOOL=OFF -DBUILD_SHARED_LIBS=OFF
    cmake --build "$build" -j2 --target zanj
fi

c++ -std=c++20 -O2 -Wall -Wextra -Wpedantic -I"$root/include" -I"$build/include" \
    "$root/bench/bombs.cpp" -o "$build/zanj_bombs" "$build/libzanj.a" -lsimdjson -lzstd -ldeflate -lz -pthread

"$build/zanj_bombs" "$scratch"
