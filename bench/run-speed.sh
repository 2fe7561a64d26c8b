#!/bin/sh
# run-speed.sh NAME — the runs behind the speed targets, into
# bench/results/NAME-{1t,2t}.{csv,json,txt}, then their table
# (targets-speed.sh) into bench/results/NAME-targets.md.  A third
# environment to compare with (e.g. a BLAS core set by hand) is the
# caller's: run
#   OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 build/bench/bptt-bench \
#       --threads 1 --no-rtrl --csv bench/results/NAME-skx-1t.csv ...
# and pass its CSV as targets-speed.sh's third argument.  bptt-bench's
# first lines name the CPU and the BLAS kernels the run used.
set -eu
[ $# = 1 ] || { echo "usage: run-speed.sh NAME" >&2; exit 2; }
cd "$(dirname "$0")/.."
out=bench/results/$1
for t in 1 2; do
    OPENBLAS_NUM_THREADS=$t ./build/bench/bptt-bench --threads $t --no-rtrl \
        --csv "$out-${t}t.csv" --json "$out-${t}t.json" > "$out-${t}t.txt"
done
sh bench/targets-speed.sh "$out-1t.csv" "$out-2t.csv" > "$out-targets.md"
cat "$out-targets.md"
