#!/bin/sh
# plot.sh CSV [OUT.svg|OUT.png] — from bptt-bench's CSV, plot the backward time and
# the speedup over naive against dout, one line per algorithm (peers
# included) and precision, over the rows of the dout sweep (din = dout,
# T = 100, B = 1, tanh units; the default grid has them).  Needs gnuplot
# (Debian gnuplot-nox).
#
#   bptt-bench --csv bench.csv && sh bench/plot.sh bench.csv bench.svg
set -eu
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: plot.sh CSV [OUT.svg|OUT.png]" >&2; exit 2; }
csv=$1
out=${2:-${csv%.csv}.svg}
case $out in
*.png) term='pngcairo size 1000,420 font "sans,10" background "white"' ;;
*) term='svg size 1000,420 dynamic font "sans,12" background "white"' ;;
esac
command -v gnuplot >/dev/null || { echo "plot.sh: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One file per algorithm and precision: dout, median ms, speedup.
awk -F, -v dir="$tmp" '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  $c["pass"] == "backward" && $c["B"] == 1 && $c["T"] == 100 &&
  $c["din"] == $c["dout"] &&
  (!("activations" in c) || $c["activations"] == "tanh") {
    f = dir "/" $c["algo"] " " $c["precision"]
    print $c["dout"], $c["median_ms"], $c["speedup_vs_naive"] > f
    threads = $c["threads"]
  }
  END { print threads + 0 > (dir "/threads") }' "$csv"
threads=$(cat "$tmp/threads")
rm "$tmp/threads"
set -- "$tmp"/*
[ -e "$1" ] || { echo "plot.sh: $csv has no backward rows at din = dout, T = 100, B = 1" >&2; exit 1; }

# gnuplot's plot commands for column $1 of every series.
series() {
  sep=""
  for f in "$tmp"/*; do
    sort -n -o "$f" "$f"
    printf '%s"%s" using 1:%s with linespoints lw 2 title "%s"' \
      "$sep" "$f" "$1" "$(basename "$f")"
    sep=", "
  done
}

gnuplot <<GP
set terminal $term
set output "$out"
set multiplot layout 1,2 title "bptt backward (dL/dW and dL/dx), din = dout, T = 100, B = 1, $threads BLAS thread(s)"
set logscale xy 2
set format y "%g"
set xtics (16, 32, 64, 128, 256, 512, 1024)
set grid
set key top left
set xlabel "dout"
set ylabel "median backward time (ms)"
plot $(series 2)
unset logscale y
set logscale y 2
set ylabel "speedup over naive"
plot $(series 3)
unset multiplot
GP
echo "$out"
