#!/bin/sh
# setup.sh — install bptt's dependencies (Debian 12, as root), build it in
# ./build and run the main job.  `setup.sh --deps-only` only installs.
set -eu
cd "$(dirname "$0")"

# Required: BLAS/LAPACKE, Check, the build tools.  Optional peers and tools
# used by the benchmark, plots and sanitizer runs are installed when present
# in the archive; their absence only skips those parts.
required="libopenblas-dev liblapacke-dev check meson ninja-build pkg-config gcc"
# The reliability modes of tests/run-all.sh: valgrind memcheck; clang with
# its sanitizer and libFuzzer runtimes (Debian 12's clang is clang 14).
required="$required valgrind clang libclang-rt-14-dev"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $required >/dev/null
fi
[ "${1:-}" = "--deps-only" ] && exit 0

[ -d build ] || meson setup build
meson compile -C build
./build/examples/train
