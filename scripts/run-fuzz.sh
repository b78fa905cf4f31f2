#!/usr/bin/env bash
# Runs zanj's libFuzzer targets (tests/fuzz/), one after another, each for a given time.
#
#   bash scripts/run-fuzz.sh [-t SECONDS] [-b BUILD] [-j JOBS] [-n] [TARGET...]
#
# TARGET: zip, npy, json, archive (default: all four). SECONDS: per target (default 60).
# BUILD: a build tree configured with ZANJ_BUILD_FUZZERS=ON (default build-fuzz beside build/,
# configured with clang++-14 and built when it has no fuzz targets yet). JOBS > 1 runs that many
# fuzzing processes per target (libFuzzer's -fork), for longer campaigns. -n only builds.
#
# Each target starts from its seeds (BUILD/fuzz/seeds/TARGET/, written by tests/fuzz/make-corpus.sh
# from the installed writers the first time, under a lock since CTest runs the targets at once)
# and from the inputs earlier runs found, kept in BUILD/fuzz/TARGET/corpus/; what it finds goes to BUILD/fuzz/TARGET/crashes/
# (crash-*, leak-*, oom-*, timeout-*: rerun one with `BUILD/tests/fuzz/zanj_fuzz_TARGET FILE`),
# its log to BUILD/fuzz/TARGET/log.txt. Memory cap: no single allocation may exceed
# -malloc_limit_mb (32 MiB: twice the 16 MiB the targets let an input decompress to, plus inputs
# of at most 16 KiB) and the process no more than -rss_limit_mb; an input taking longer than
# -timeout seconds is a hang. Exits 1 when any target found something.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=60 build="$root/build-fuzz" jobs=1 build_only=0
while getopts "t:b:j:n" opt; do
    case "$opt" in
    t) seconds="$OPTARG" ;;
    b) build="$(mkdir -p "$OPTARG" && cd "$OPTARG" && pwd)" ;;
    j) jobs="$OPTARG" ;;
    n) build_only=1 ;;
    *) sed -n '2,19p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(zip npy json archive)

if [ ! -x "$build/tests/fuzz/zanj_fuzz_${targets[0]}" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="${ZANJ_CXX:-clang++-14}" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
        -DZANJ_SANITIZE=address,undefined -DZANJ_BUILD_FUZZERS=ON -DZANJ_BUILD_TESTS=ON \
        -DZANJ_BUILD_EXAMPLES=OFF -DZANJ_BUILD_TOOL=OFF -DZANJ_INSTALL=OFF
    cmake --build "$build" --target "${targets[@]/#/zanj_fuzz_}"
fi
[ "$build_only" = 1 ] && exit 0

# The seeds are made, not kept in the repository: once per build tree, one maker at a time.
seed_root="$build/fuzz/seeds"
mkdir -p "$build/fuzz"
(
    flock 9
    if [ ! -f "$seed_root/.complete" ]; then
        rm -rf "$seed_root"
        bash "$root/tests/fuzz/make-corpus.sh" "$build" "$seed_root" > "$build/fuzz/seeds.log" 2>&1 ||
            { cat "$build/fuzz/seeds.log" >&2; exit 1; }
        touch "$seed_root/.complete"
    fi
) 9> "$build/fuzz/seeds.lock"

# Leaks count as findings; UBSan's reports stop the run (the build has -fno-sanitize-recover).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
for target in "${targets[@]}"; do
    exe="$build/tests/fuzz/zanj_fuzz_$target"
    seeds="$seed_root/$target"
    work="$build/fuzz/$target"
    [ -x "$exe" ] || { echo "run-fuzz: no $exe (configure $build with -DZANJ_BUILD_FUZZERS=ON)" >&2; exit 2; }
    [ -d "$seeds" ] || { echo "run-fuzz: no seeds in $seeds" >&2; exit 2; }
    mkdir -p "$work/corpus" "$work/crashes"
    args=(-max_total_time="$seconds" -max_len=16384 -timeout=10 -malloc_limit_mb=32 -rss_limit_mb=2048
          -artifact_prefix="$work/crashes/" -print_final_stats=1)
    [ "$jobs" -gt 1 ] && args+=(-fork="$jobs" -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
    echo "== fuzz $target: ${seconds} s, seeds $seeds"
    touch "$work/started" # what this run finds is newer (earlier findings stay in crashes/)
    if "$exe" "${args[@]}" "$work/corpus" "$seeds" > "$work/log.txt" 2>&1 &&
        [ -z "$(find "$work/crashes" -type f -newer "$work/started")" ]; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log.txt" | tail -1)
        speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log.txt" | tail -1)
        echo "== fuzz $target: ${runs:-?} inputs, ${speed:-?} exec/s, corpus $(ls "$work/corpus" | wc -l) files, nothing found"
    else
        status=1
        # The report: the sanitizer's stack and the input in hex and base64 (libFuzzer prints them).
        grep -v '^#[0-9]*\s*\(NEW\|REDUCE\|pulse\|INITED\|RELOAD\)' "$work/log.txt" | tail -120
        echo "== fuzz $target: FOUND SOMETHING; the inputs:"
        find "$work/crashes" -type f -newer "$work/started"
    fi
done
exit $status
