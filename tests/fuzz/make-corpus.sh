#!/usr/bin/env bash
# Rebuilds the fuzzers' seed corpus in tests/fuzz/corpus/ (committed; a few KB per file):
# archives from our writer and libzip (the seed writer zanj_fuzz_seeds), from numpy, Python's
# zipfile, Info-ZIP's zip and tests/python/write_zanj.py, split per target by make_corpus.py.
#
#   bash tests/fuzz/make-corpus.sh [BUILD]
#
# BUILD: a build tree with ZANJ_BUILD_FUZZERS=ON (default build-fuzz, as scripts/run-fuzz.sh
# makes it); the seed writer is built there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build-fuzz}"
[ -f "$build/CMakeCache.txt" ] || bash "$root/scripts/run-fuzz.sh" -n -b "$build"
cmake --build "$build" --target zanj_fuzz_seeds
raw="$(mktemp -d)"
trap 'rm -rf "$raw"' EXIT
ASAN_OPTIONS=detect_leaks=0 "$build/tests/fuzz/zanj_fuzz_seeds" "$raw"
/usr/bin/python3 "$here/make_corpus.py" "$raw" "$here/corpus"
