#!/bin/bash
# run-all.sh — the full test suite, what CI runs.  Six modes, each in its
# own build directory; with no argument all six run, in this order:
#
#   normal    ./build (gcc): every test of every suite (--setup full): the
#             Check suites, the install and subproject tests, the peers'
#             check and the bptt-bench runs
#   asan      ./build-asan (clang, -Werror): the Check suites under
#             AddressSanitizer + UndefinedBehaviorSanitizer, halting on the
#             first report, leaks detected
#   valgrind  ./build again: the Check suites under valgrind memcheck, no
#             errors and no definite leaks allowed
#   fuzz      ./build-fuzz (clang): fuzz/fuzz_api for FUZZ_SECONDS (default
#             60) from the seed corpus fuzz/corpus
#   isa       ./build again: the Check suites on bptt's own GEMM
#             (BPTT_GEMM=bptt) with the kernels at the CPU's level, then
#             capped at avx2, then at sse (BPTT_MAX_ISA), so that every
#             kernel path is tested on the widest machine
#   tsan      ./build-tsan (clang): the kernels and threads suites under
#             ThreadSanitizer; test_kernels runs the time loops on 1, 2
#             and 3 threads of bptt's own
#
# Every mode runs even if an earlier one failed; the last line counts them
# and the exit status is non-zero if any failed.
# Usage: bash tests/run-all.sh [normal|isa|asan|tsan|valgrind|fuzz]...
set -uo pipefail
cd "$(dirname "$0")/.."
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(normal isa asan tsan valgrind fuzz)

normal() {
    [ -d build ] || meson setup build
    meson compile -C build
    meson test -C build --setup full --print-errorlogs
}

asan() {
    [ -d build-asan ] || CC=clang meson setup build-asan \
        -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
        -Db_lundef=false -Dwerror=true
    meson compile -C build-asan
    meson test -C build-asan --setup asan --suite unit --print-errorlogs
}

valgrind() {
    [ -d build ] || meson setup build
    meson compile -C build
    meson test -C build --setup valgrind --suite unit --print-errorlogs
}

isa() {
    [ -d build ] || meson setup build
    meson compile -C build
    for cap in "" avx2 sse; do
        echo "-- BPTT_GEMM=bptt BPTT_MAX_ISA=$cap"
        BPTT_GEMM=bptt BPTT_MAX_ISA=$cap meson test -C build --suite unit \
            --print-errorlogs
    done
}

tsan() {
    [ -d build-tsan ] || CC=clang meson setup build-tsan \
        -Dbuildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false \
        -Dwerror=true
    meson compile -C build-tsan
    meson test -C build-tsan --setup tsan --print-errorlogs kernels threads
}

fuzz() {
    bash fuzz/run.sh "${FUZZ_SECONDS:-60}"
}

passed=0 failed=0 failures=""
for mode in "${modes[@]}"; do
    case $mode in
    normal | isa | asan | tsan | valgrind | fuzz) ;;
    *)
        echo "run-all.sh: unknown mode '$mode' (normal, isa, asan, tsan, valgrind, fuzz)" >&2
        exit 2
        ;;
    esac
    printf '\n==== %s ====\n' "$mode"
    start=$SECONDS
    if (set -e; "$mode"); then
        passed=$((passed + 1))
        printf '==== %s: passed in %d s ====\n' "$mode" $((SECONDS - start))
    else
        failed=$((failed + 1))
        failures="$failures $mode"
        printf '==== %s: FAILED in %d s ====\n' "$mode" $((SECONDS - start))
    fi
done
[ -z "$failures" ] || echo "failed modes:$failures"
echo "run-all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
