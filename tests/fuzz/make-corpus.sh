#!/usr/bin/env bash
# Writes the fuzzers' seed corpus into OUT/<target>/: archives from our writer and libzip (the
# seed writer zanj_fuzz_seeds), from numpy, Python's zipfile, Info-ZIP's zip and
# tests/python/write_zanj.py, split per target by make_corpus.py. The seeds are made anew from
# the writers installed, not kept in the repository; scripts/run-fuzz.sh calls this once per
# build tree, before the first fuzz run.
#
#   bash tests/fuzz/make-corpus.sh BUILD OUT
#
# BUILD: a build tree with ZANJ_BUILD_FUZZERS=ON, where the seed writer is built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$1"
out="$2"
cmake --build "$build" --target zanj_fuzz_seeds
raw="$(mktemp -d)"
trap 'rm -rf "$raw"' EXIT
ASAN_OPTIONS=detect_leaks=0 "$build/tests/fuzz/zanj_fuzz_seeds" "$raw"
/usr/bin/python3 "$here/make_corpus.py" "$raw" "$out"
