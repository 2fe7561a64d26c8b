#!/bin/bash
# run.sh — build the libFuzzer harness (clang, ASan+UBSan) in ./build-fuzz
# and fuzz the public API for SECONDS (default 60) from the seed corpus
# fuzz/corpus.  New inputs go to a scratch directory (CORPUS_OUT, default a
# temporary one), so the committed corpus changes only when you merge by
# hand (fuzz/README.md).  Exits non-zero on any finding; the reproducer is
# written as ./crash-*, ./oom-*, ./timeout-* or ./leak-*.
# Usage: bash fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
if [ ! -d build-fuzz ]; then
    CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false \
        -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
        -Db_lundef=false >/dev/null
fi
meson compile -C build-fuzz fuzz/fuzz_api >/dev/null
out=${CORPUS_OUT:-$(mktemp -d)}
mkdir -p "$out"
# halt_on_error: a UBSan report is a finding, not a warning.
# allocator_may_return_null: the library must survive a failed malloc
# (its huge-workspace path returns BPTT_ENOMEM).
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1
# One BLAS thread: libFuzzer runs one input at a time anyway, and OpenBLAS's
# thread pool only adds noise to the leak and timeout checks.
export OPENBLAS_NUM_THREADS=1
./build-fuzz/fuzz/fuzz_api -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 "$@" "$out" fuzz/corpus
