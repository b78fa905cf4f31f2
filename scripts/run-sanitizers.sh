#!/usr/bin/env bash
# Builds zanj-cpp with sanitizers, each mode in a build folder of its own, and runs:
#   asan  the whole suite (library, tests, tool, examples) under AddressSanitizer and
#         UndefinedBehaviorSanitizer, but for the packaging tests (which build plain consumers):
#         every error stops the test (halt_on_error), leaks included;
#   tsan  the tests tagged [concurrency] under ThreadSanitizer (only they are built);
#   ci    what scripts/run-tests.sh runs: the asan build plus the libFuzzer targets (built on the
#         same library objects), and one CTest run of everything: the whole suite, the packaging
#         tests (GCC consumers of a plain library), the tsan mode as one test, and each fuzz
#         target for ZANJ_FUZZ_SECONDS (default 60).
# No argument runs asan and tsan. Every build is Clang's (ZANJ_CXX, default clang++-14) with
# -Werror and line tables (reports name lines), at -O1 for tsan, -O0 for the others: optimizing
# sanitized code quadruples the time to compile the tests (in ci, the library and the fuzz
# targets are at -O1 all the same, for the fuzzers' speed). Prints the build and
# run time of each mode. Set ZANJ_SANITIZE_BUILD to put the build folders elsewhere (default:
# build-asan, build-tsan and build-ci beside build/), and ZANJ_JOBS for the parallel jobs
# (default 2). Needs the dependencies of scripts/install-deps.sh and libclang-rt-14-dev.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_root="${ZANJ_SANITIZE_BUILD:-$root}"
jobs="${ZANJ_JOBS:-2}"
cxx="${ZANJ_CXX:-clang++-14}"
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(asan tsan)

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

seconds_since() { echo $(( $(date +%s) - $1 )); }

run_mode() {
    local mode="$1" sanitize dir options=() targets=() tests=() optimize="-O0"
    case "$mode" in
    asan) sanitize="address,undefined"; tests=(-LE package) ;;
    ci)   sanitize="address,undefined"
          options=(-DZANJ_BUILD_FUZZERS=ON -DZANJ_FUZZ_SECONDS="${ZANJ_FUZZ_SECONDS:-60}" -DZANJ_TSAN_TEST=ON
                   -DZANJ_PACKAGE_CXX="$(command -v g++ || command -v c++)") ;;
    tsan) sanitize="thread"; targets=(--target zanj_concurrency_tests); optimize="-O1"
          options=(-DZANJ_BUILD_EXAMPLES=OFF -DZANJ_BUILD_TOOL=OFF) ;;
    *) echo "usage: $0 [asan|tsan|ci]..." >&2; exit 2 ;;
    esac
    dir="$build_root/build-$mode"
    local start
    start=$(date +%s)
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$optimize -gline-tables-only" -DZANJ_SANITIZE="$sanitize" -DZANJ_WERROR=ON \
        -DZANJ_BUILD_TESTS=ON "${options[@]}"
    cmake --build "$dir" -j "$jobs" "${targets[@]}"
    local built
    built=$(seconds_since "$start")
    start=$(date +%s)
    if [ "$mode" = tsan ]; then
        mkdir -p "$dir/tests/work"
        (cd "$dir/tests/work" && ../zanj_concurrency_tests "[concurrency]")
    else
        # Twice as many tests as cores: the fuzz tests run for a fixed time whatever CPU they
        # get, and many tests wait on Python or child processes.
        (cd "$dir" && ctest --output-on-failure -j "$((jobs * 2))" --timeout 1200 "${tests[@]}")
        # The fuzzers' speed, for the log.
        [ "$mode" = ci ] && grep -h "^== fuzz .*exec/s" "$dir"/Testing/Temporary/LastTest.log || true
    fi
    local ran
    ran=$(seconds_since "$start")
    echo "== $mode: build ${built} s, run ${ran} s"
    summary+=("$mode: build ${built} s, run ${ran} s")
}

summary=()
for mode in "${modes[@]}"; do run_mode "$mode"; done
printf '== %s\n' "${summary[@]}"
