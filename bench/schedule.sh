#!/bin/sh
# bench/schedule.sh BUILD [OUT.csv] — the memory-time figures of
# docs/schedule.md (issue 12): bptt-bench-schedule at budgets of 1, 2, 5,
# 10, 25 and 100% of the full-storage workspace, full storage itself and
# RTRL, T = 1000 and 10,000, shapes (256,256,·,32) and (512,512,·,1), both
# precisions.  The arms of one (precision, T, shape) run in one process,
# interleaved, REPS rounds (default 3) after an untimed round, so their
# ratios to full storage are taken under the same load; the process's
# peak memory (getrusage, VmHWM) of full storage and of the target budget
# (5% at T = 1000, 1% at T = 10,000) come from processes of their own,
# written to OUT's -peak.csv.  One BLAS thread: OpenBLAS's threads yielding
# on a loaded machine took a third of the time of short segments (perf),
# which says nothing about the plan.  Plot: sh bench/schedule_plot.sh OUT.
set -eu
export OPENBLAS_NUM_THREADS=1
build=${1:?usage: schedule.sh BUILD [OUT.csv]}
out=${2:-schedule.csv}
peak=${out%.csv}-peak.csv
reps=${REPS:-3}
exe=$build/bench/bptt-bench-schedule
stamp() {
    echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
{ stamp; "$exe" --header; } >"$out"
{ stamp; "$exe" --header; } >"$peak"
for p in d f; do
    for T in 1000 10000; do
        target=0.05
        [ "$T" = 10000 ] && target=0.01
        for shape in "256 256 32" "512 512 1"; do
            set -- $shape
            stamp >>"$out"
            "$exe" "$p" "$1" "$2" "$T" "$3" 0,0.01,0.02,0.05,0.1,0.25,1,r \
                "$reps" >>"$out"
            for share in 0 "$target"; do
                "$exe" "$p" "$1" "$2" "$T" "$3" "$share" 1 >>"$peak"
            done
        done
    done
done
stamp >>"$out"
echo "$out $peak"
