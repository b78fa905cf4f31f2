#!/usr/bin/env bash
# The benchmark in one command: installs its Debian packages, builds zanj_bench in Release, runs
# every case and writes docs/benchmarks.md and docs/benchmarks.png from the results.
#
#   bash bench/run.sh [--scale S] [--reps N] [--out DIR] [--workloads abcd] [--tools raw,zanj,...]
#
# --scale 0.25 (or ZANJ_BENCH_SCALE=0.25) shrinks (a) and (d): 1 GiB for (a) at the default 1.
# ZANJ_BENCH_FULL_A=1 then also runs (a) alone at 1 GiB (every tool, 3 runs; about 25 minutes),
# which the report adds as a section of its own. Files are written under build-bench/bench-out
# and deleted afterwards.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ZANJ_BENCH_BUILD:-$root/build-bench}"

bash "$root/bench/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DZANJ_BUILD_BENCH=ON \
      -DZANJ_BUILD_TESTS=OFF -DZANJ_BUILD_EXAMPLES=OFF
cmake --build "$build" --target zanj_bench
"$build/bench/zanj_bench" --out "$build/bench-out" --csv "$build/benchmarks.csv" "$@"
full=()
if [[ "${ZANJ_BENCH_FULL_A:-}" == 1 ]]; then
    "$build/bench/zanj_bench" --out "$build/bench-out" --csv "$build/benchmarks-a-full.csv" --scale 1 --workloads a
    full=(--full-scale "$build/benchmarks-a-full.csv")
fi
# ZANJ_BENCH_CONDITIONS: a sentence on what else the machine was doing, printed in the report.
/usr/bin/python3 "$root/bench/report.py" "$build/benchmarks.csv" "$root/docs" "${ZANJ_BENCH_CONDITIONS:-}" "${full[@]}"
echo "wrote $root/docs/benchmarks.md and $root/docs/benchmarks.png"
