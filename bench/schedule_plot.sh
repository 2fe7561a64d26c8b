#!/bin/sh
# schedule_plot.sh CSV [OUT.svg|OUT.png] — from bench/schedule.sh's CSV,
# the memory-time curve of memory-bounded BPTT: the schedule's bytes as a
# fraction of the full-storage workspace (log) against its forward +
# backward time as a multiple of full storage's (both from one process,
# interleaved), one line per shape and precision; T = 1000 and T = 10,000
# side by side, and a third panel (log-log) with RTRL's points, whose time
# is extrapolated from steps of one sequence.  Refused budgets (below the
# minimum) are left out.  Needs gnuplot (Debian gnuplot-nox).
#
#   sh bench/schedule.sh build s.csv && sh bench/schedule_plot.sh s.csv s.svg
set -eu
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: schedule_plot.sh CSV [OUT.svg|OUT.png]" >&2; exit 2; }
csv=$1
out=${2:-${csv%.csv}.svg}
case $out in
*.png) term='pngcairo size 1200,420 font "sans,10" background "white"' ;;
*) term='svg size 1200,420 dynamic font "sans,11" background "white"' ;;
esac
command -v gnuplot >/dev/null || { echo "schedule_plot.sh: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One file per T, shape and precision: time ratio, memory fraction; RTRL's
# rows in files of their own.  The CPU line is the CSV's first comment.
awk -F, -v dir="$tmp" '
  /^#/ { if (!cpu) { cpu = $0; sub(/^# [^ ]* /, "", cpu); sub(/, load.*/, "", cpu) } next }
  $1 == "prec" { next }
  $19 ~ /^refused/ || $15 == "" { next }
  {
    name = sprintf("(%s,%s,·,%s) %s", $2, $3, $5, $1 == "d" ? "double" : "float")
    f = dir "/" ($6 == "rtrl" ? "rtrl T=" $4 " " : "T" $4 " ") name
    print $15, $9 > f
  }
  END { print cpu > (dir "/cpu") }' "$csv"
cpu=$(cat "$tmp/cpu")
rm "$tmp/cpu"

series() { # $1: file prefix, $2: plot style, $3: title prefix or - (none)
  sep=""
  for f in "$tmp/$1 "*; do
    [ -e "$f" ] || continue
    sort -g -k2 -o "$f" "$f" # along the curve: by memory
    if [ "${3:-}" = - ]; then
      t=notitle
    else
      t="title \"${3:-}$(basename "$f" | cut -d' ' -f2-)\""
    fi
    printf '%s"%s" using 1:2 with %s lw 2 %s' "$sep" "$f" "$2" "$t"
    sep=", "
  done
}

# gnuplot's plot list of its non-empty arguments, comma-separated; a
# panel without data plots nothing but its frame.
join() {
  sep=""
  for a in "$@"; do
    [ -n "$a" ] || continue
    printf '%s%s' "$sep" "$a"
    sep=", "
  done
}
orempty() { [ -n "$1" ] && echo "$1" || echo "NaN notitle"; }
p1=$(orempty "$(series T1000 linespoints)")
p2=$(orempty "$(series T10000 linespoints)")
p3=$(orempty "$(join "$(series T1000 "linespoints lc rgb 'gray'" -)" \
  "$(series T10000 "linespoints lc rgb 'gray'" -)" \
  "$(series rtrl "points pt 7 ps 1.5" "RTRL ")")")

gnuplot <<GP
set terminal $term
set output "$out"
set multiplot layout 1,3 title "memory-bounded BPTT (bptt\\\\_schedule\\\\_run) against full storage, 1 BLAS thread, $cpu"
set logscale y 10
set format y "%g"
set grid
set key top right
set ylabel "bytes / full-storage workspace"
set xlabel "time / full-storage forward+backward"
set yrange [0.005:2]
set title "T = 1000"
plot $p1
set title "T = 10,000"
plot $p2
set title "all points and RTRL (log-log; RTRL extrapolated)"
set logscale xy 10
set format x "10^{%L}"
set yrange [0.005:300]
set key bottom right font ",9" spacing 0.9
plot $p3
unset multiplot
GP
echo "$out"
