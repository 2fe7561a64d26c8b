#!/bin/sh
# setup.sh — install bptt's dependencies (Debian 12, as root), build it in
# ./build and run the main job.  `setup.sh --deps-only` only installs;
# `setup.sh --peers` also installs the benchmark's peers (oneDNN, PyTorch:
# several hundred MB) before building, and configures an existing ./build
# afresh if it was configured without oneDNN.
set -eu
cd "$(dirname "$0")"

# Required: BLAS/LAPACKE, Check, the build tools.  Optional peers and tools
# used by the benchmark, plots and sanitizer runs are installed when present
# in the archive; their absence only skips those parts.
required="libopenblas-dev liblapacke-dev check meson ninja-build pkg-config gcc"
# The install test's consumers (tests/install/): a CMake project, and a
# fully static program, which needs OpenBLAS's Fortran runtime as an archive.
required="$required cmake libgfortran-12-dev"
optional="gnuplot-nox"  # bench/plot.sh
# The reliability modes of tests/run-all.sh: valgrind memcheck; clang with
# its sanitizer and libFuzzer runtimes (Debian 12's clang is clang 14).
required="$required valgrind clang libclang-rt-14-dev"
# Open MPI: the data-parallel module (lib/mpi/) and its tests under mpirun
# (the meson suite 'mpi', run by tests/run-all.sh's normal mode).
required="$required openmpi-bin libopenmpi-dev"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $required >/dev/null
    for p in $optional; do
        apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
            echo "setup.sh: optional $p not installed"
    done
    if [ "${1:-}" = "--peers" ]; then
        apt-get install -y -qq --no-install-recommends \
            libdnnl-dev python3-torch python3-numpy >/dev/null
    fi
fi
[ "${1:-}" = "--deps-only" ] && exit 0

if [ ! -d build ]; then
    meson setup build
elif [ "${1:-}" = "--peers" ] &&
     grep -q 'PEER_ONEDNN_BUILT 0' build/bench/peers/peer_config.h 2>/dev/null; then
    # build/ was configured before oneDNN was installed.  A rebuild keeps
    # that answer, and meson caches its header checks even across
    # --reconfigure, so configure afresh (--wipe keeps the options).
    meson setup --wipe build
fi
meson compile -C build
./build/bench/bptt-bench --quick
