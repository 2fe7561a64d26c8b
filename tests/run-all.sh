#!/bin/bash
# run-all.sh — the full test suite, what CI runs.  Four modes, each in its
# own build directory; with no argument all four run, in this order:
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
#
# Every mode runs even if an earlier one failed; the last line counts them
# and the exit status is non-zero if any failed.
# Usage: bash tests/run-all.sh [normal|asan|valgrind|fuzz]...
set -uo pipefail
cd "$(dirname "$0")/.."
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(normal asan valgrind fuzz)

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

fuzz() {
    bash fuzz/run.sh "${FUZZ_SECONDS:-60}"
}

passed=0 failed=0 failures=""
for mode in "${modes[@]}"; do
    case $mode in
    normal | asan | valgrind | fuzz) ;;
    *)
        echo "run-all.sh: unknown mode '$mode' (normal, asan, valgrind, fuzz)" >&2
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
