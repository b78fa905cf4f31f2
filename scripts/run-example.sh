#!/usr/bin/env bash
# Installs the dependencies, builds zanj-cpp and runs the quickstart example, which leaves
# quickstart-out/run.zanj in the current folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$root/build" --target zanj_example_quickstart
"$root/build/examples/quickstart"
