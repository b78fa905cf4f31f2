#!/usr/bin/env bash
# Installs the dependencies, builds zanj-cpp with its tests, examples, tool and fuzz targets, and
# runs everything through one CTest run (what CI runs): the whole suite under AddressSanitizer
# and UndefinedBehaviorSanitizer with -Werror (Clang), the [concurrency] tests under
# ThreadSanitizer, each libFuzzer target for 60 s, and the packaging tests, which build a plain
# library and consumers with GCC. The build is in build-ci/; see scripts/run-sanitizers.sh (mode
# ci) for the details, and scripts/run-example.sh for a plain Release build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start=$(date +%s)
bash "$root/scripts/install-deps.sh" libclang-rt-14-dev # libFuzzer and the sanitizer runtimes
echo "== dependencies: $(( $(date +%s) - start )) s"
bash "$root/scripts/run-sanitizers.sh" ci
