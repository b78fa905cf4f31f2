#!/usr/bin/env bash
# The packaging tests (see tests/CMakeLists.txt): each step builds tests/package/consumer.cpp in
# a downstream setting and runs it in a scratch folder; it prints "consumer: ok (zanj VERSION)".
#
#   run.sh install DIR PREFIX              cmake --install the build tree DIR into PREFIX
#   run.sh find_package PREFIX WORK        a CMake project with find_package(zanj CONFIG REQUIRED)
#   run.sh pkg_config PREFIX WORK          one compiler call with `pkg-config --cflags --libs zanj`
#   run.sh subproject MODE WORK [PREFIX SHARED]
#                                          add_subdirectory or fetch_content (MODE) of the source
#                                          tree; with PREFIX, built with BUILD_SHARED_LIBS=SHARED
#                                          and ZANJ_INSTALL=ON, and installed there
#
# Environment (set by CTest): ZANJ_SOURCE_DIR, ZANJ_VERSION, CXX, ZANJ_GENERATOR,
# ZANJ_MAKE_PROGRAM, ZANJ_JOBS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
step="$1"; shift
jobs="${ZANJ_JOBS:-2}"
cmake_args=(-G "${ZANJ_GENERATOR:-Ninja}" -DCMAKE_CXX_COMPILER="${CXX:-c++}")
[ -n "${ZANJ_MAKE_PROGRAM:-}" ] && cmake_args+=(-DCMAKE_MAKE_PROGRAM="$ZANJ_MAKE_PROGRAM")

# Runs a command quietly, showing its log only when it fails.
quiet() {
    local log="$1"; shift
    if ! "$@" > "$log" 2>&1; then
        cat "$log"; echo "failed: $*" >&2; exit 1
    fi
}

# Runs the consumer built at $1 in a fresh folder and checks what it prints.
run_consumer() {
    local exe="$1" dir="$2"
    rm -rf "$dir"; mkdir -p "$dir"
    (cd "$dir" && "$exe") | tee "$dir/output.txt"
    grep -qx "consumer: ok (zanj ${ZANJ_VERSION})" "$dir/output.txt"
    test -f "$dir/consumer-out/settings.zanj"
}

case "$step" in
install)
    build="$1" prefix="$2"
    rm -rf "$prefix"; mkdir -p "$prefix"
    quiet "$prefix/../install.log" cmake --install "$build" --prefix "$prefix"
    for f in include/zanj/zanj.hpp include/zanj/version.hpp; do test -f "$prefix/$f"; done
    test -f "$(echo "$prefix"/lib*/cmake/zanj/zanjConfig.cmake)"
    test -f "$(echo "$prefix"/lib*/pkgconfig/zanj.pc)"
    echo "installed into $prefix"
    ;;
find_package)
    prefix="$1" work="$2"
    rm -rf "$work"; mkdir -p "$work"
    quiet "$work/configure.log" cmake -S "$here/find_package" -B "$work/build" "${cmake_args[@]}" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DZANJ_EXPECTED_VERSION="$ZANJ_VERSION"
    quiet "$work/build.log" cmake --build "$work/build" --parallel "$jobs"
    run_consumer "$work/build/consumer" "$work/run"
    ;;
pkg_config)
    prefix="$1" work="$2"
    rm -rf "$work"; mkdir -p "$work"
    libdir="$(echo "$prefix"/lib*/pkgconfig)"; libdir="${libdir%/pkgconfig}"
    export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    test "$(pkg-config --modversion zanj)" = "$ZANJ_VERSION"
    read -r -a flags <<< "$(pkg-config --cflags --libs zanj)"
    echo "${CXX:-c++} -std=c++20 consumer.cpp ${flags[*]}"
    quiet "$work/build.log" "${CXX:-c++}" -std=c++20 -O1 "$here/consumer.cpp" -o "$work/consumer" "${flags[@]}"
    LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" run_consumer "$work/consumer" "$work/run"
    ;;
subproject)
    mode="$1" work="$2" prefix="${3:-}" shared="${4:-OFF}"
    rm -rf "$work"; mkdir -p "$work"
    extra=()
    [ -n "$prefix" ] && extra=(-DBUILD_SHARED_LIBS="$shared" -DZANJ_INSTALL=ON)
    quiet "$work/configure.log" cmake -S "$here/subproject" -B "$work/build" "${cmake_args[@]}" \
        -DZANJ_CONSUMER_MODE="$mode" -DZANJ_SOURCE_DIR="$ZANJ_SOURCE_DIR" "${extra[@]}"
    quiet "$work/build.log" cmake --build "$work/build" --parallel "$jobs"
    run_consumer "$work/build/consumer" "$work/run"
    # Installing the parent installs zanj only when the parent asked for it.
    installed="${prefix:-$work/no-install}"
    rm -rf "$installed"
    quiet "$work/install.log" cmake --install "$work/build" --prefix "$installed"
    if [ -z "$prefix" ]; then
        if [ -n "$(find "$installed" -type f 2>/dev/null)" ]; then
            echo "a subproject zanj installed files without ZANJ_INSTALL:"; find "$installed" -type f; exit 1
        fi
    else
        lib="libzanj.a"; [ "$shared" = ON ] && lib="libzanj.so"
        test -f "$(echo "$prefix"/lib*/$lib)"
        test -f "$prefix/include/zanj/version.hpp"
        echo "installed $lib into $prefix"
    fi
    ;;
*)
    echo "unknown step '$step'" >&2; exit 2
    ;;
esac
