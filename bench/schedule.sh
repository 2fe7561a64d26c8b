#!/bin/sh
# bench/schedule.sh BUILD [OUT] — the memory-time figures of
# docs/schedule.md: bptt-bench-schedule at budgets of 1, 2, 5, 10, 25 and
# 100% of the full-storage workspace and full storage itself, T = 1000 and
# 10,000, shapes (256,256,·,32) and (512,512,·,1), both precisions; one
# process per configuration (its peak memory is its own).  T = 10,000 at
# (256,256,·,32) runs once per configuration, the rest three times.  One
# BLAS thread: OpenBLAS's threads yielding on a loaded machine took a third
# of the time of short segments (perf), which says nothing about the plan.
set -eu
export OPENBLAS_NUM_THREADS=1
build=${1:?usage: schedule.sh BUILD [OUT]}
out=${2:-/dev/stdout}
exe=$build/bench/bptt-bench-schedule
{
    echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# prec din dout T B share budget bytes seg slots forward_steps median_s maxrss_kB full_bytes"
    for p in d f; do
        for T in 1000 10000; do
            for shape in "256 256 32" "512 512 1"; do
                set -- $shape
                reps=3
                [ "$T" = 10000 ] && [ "$3" = 32 ] && reps=1
                for share in 0 0.01 0.02 0.05 0.10 0.25 1; do
                    "$exe" "$p" "$1" "$2" "$T" "$3" "$share" "$reps"
                done
            done
        done
    done
} >"$out"
