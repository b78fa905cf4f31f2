#!/usr/bin/env bash
# Builds zanj-cpp with sanitizers, each mode in a build folder of its own, and runs:
#   asan  the whole suite (library, tests, tool, examples) under AddressSanitizer and
#         UndefinedBehaviorSanitizer: every error stops the test (halt_on_error), leaks included;
#   tsan  the tests tagged [concurrency] under ThreadSanitizer.
# No argument runs both. Prints the build and run time of each mode. Set ZANJ_SANITIZE_BUILD to
# put the build folders elsewhere (default: build-asan and build-tsan beside build/), and
# ZANJ_JOBS for the parallel jobs (default 2). Needs the dependencies of scripts/run-tests.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_root="${ZANJ_SANITIZE_BUILD:-$root}"
jobs="${ZANJ_JOBS:-2}"
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(asan tsan)

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

seconds_since() { echo $(( $(date +%s) - $1 )); }

run_mode() {
    local mode="$1" sanitize dir
    case "$mode" in
    asan) sanitize="address,undefined" ;;
    tsan) sanitize="thread" ;;
    *) echo "usage: $0 [asan|tsan]..." >&2; exit 2 ;;
    esac
    dir="$build_root/build-$mode"
    local start
    start=$(date +%s)
    # RelWithDebInfo: optimised enough to run the suite in reasonable time, with line numbers in
    # the reports. ZANJ_INSTALL=OFF: the package tests build consumers without the sanitizer.
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZANJ_SANITIZE="$sanitize" \
        -DZANJ_BUILD_TESTS=ON -DZANJ_BUILD_EXAMPLES="$([ "$mode" = asan ] && echo ON || echo OFF)" \
        -DZANJ_BUILD_TOOL="$([ "$mode" = asan ] && echo ON || echo OFF)" -DZANJ_INSTALL=OFF
    if [ "$mode" = asan ]; then
        cmake --build "$dir" -j "$jobs"
    else
        cmake --build "$dir" -j "$jobs" --target zanj_tests
    fi
    local built=$(seconds_since "$start")
    start=$(date +%s)
    if [ "$mode" = asan ]; then
        # Everything but the package tests, which rebuild zanj without sanitizers.
        (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 1200 -LE package)
    else
        mkdir -p "$dir/tests/work"
        (cd "$dir/tests/work" && ../zanj_tests "[concurrency]")
    fi
    local ran=$(seconds_since "$start")
    echo "== $mode: build ${built} s, run ${ran} s"
    summary+=("$mode: build ${built} s, run ${ran} s")
}

summary=()
for mode in "${modes[@]}"; do run_mode "$mode"; done
printf '== %s\n' "${summary[@]}"
