#!/bin/sh
# targets-speed.sh ONE.csv TWO.csv [OTHER.csv] — the speed targets of the
# "fast on the CPU the user has" work, from bptt-bench runs (their CSVs,
# all-tanh rows, medians), as a Markdown table: each target, the figure
# measured and whether it is met.
#
#   ONE    a run at 1 thread   (OPENBLAS_NUM_THREADS=1 bptt-bench --threads 1)
#   TWO    a run at 2 threads  (OPENBLAS_NUM_THREADS=2 bptt-bench --threads 2)
#   OTHER  optional: a 1-thread run in another environment, e.g. with
#          OPENBLAS_CORETYPE=SkylakeX set by hand, to compare with ONE
#
# Targets (bptt's default algorithm, the row default = 1):
#   oneDNN f32 backward / bptt's      > 1 at every shape, at 1 and 2
#                                     threads; >= 1.5 at the B = 1 shapes
#   PyTorch fwd+bwd / bptt's          > 1 at every shape, both precisions
#   backward_recurrence, B = 1, f32   >= 85% of the read limit (Wy's bytes
#                                     per step at the read bandwidth)
#   bptt backward 1 thread / 2        >= 1.6 at (512,512,100,1) and
#                                     (512,512,50,64)
#   ONE's backward / OTHER's          <= 1.05 at every shape (no slower)
set -eu
[ $# -ge 2 ] || { echo "usage: targets-speed.sh ONE.csv TWO.csv [OTHER.csv]" >&2; exit 2; }
other=${3:-/dev/null}
awk -F, -v nfile=$# '
  BEGIN {
    # the five reference shapes (din,dout,T,B)
    ref["(32,32,100,1)"]; ref["(128,128,100,1)"]; ref["(512,512,100,1)"]
    ref["(256,256,100,32)"]; ref["(512,512,50,64)"]
  }
  FNR == 1 { f++; delete c; for (i = 1; i <= NF; i++) c[$i] = i; next }
  ("activations" in c) && $c["activations"] != "tanh" { next }
  {
    shape = "(" $c["din"] "," $c["dout"] "," $c["T"] "," $c["B"] ")"
    if (!(shape in ref)) next
    if (!(shape in seen)) { seen[shape] = 1; order[++ns] = shape; B[shape] = $c["B"] }
    k = f "|" $c["precision"] "|" shape "|" $c["pass"]
    if ($c["default"] == 1) {
      bptt[k] = $c["median_ms"]
      if ($c["pass"] == "backward_recurrence") frac[k] = $c["fraction_of_limit"]
    }
    if ($c["algo"] == "deferred" && $c["pass"] == "backward_recurrence")
      frac[k] = $c["fraction_of_limit"]
    if ($c["algo"] == "onednn" || $c["algo"] == "torch")
      peer[$c["algo"] "|" k] = $c["median_ms"]
  }
  function row(target, shape, prec, figure, ok) {
    printf "| %s | %s | %s | %s | %s |\n", target, shape, prec, figure, ok
    n++; if (ok == "met") met++
  }
  function ratio(a, b) { return (a != "" && b != "" && b > 0) ? a / b : "" }
  function show(target, shape, prec, x, goal, fmt) {
    if (x == "") { row(target, shape, prec, "not measured", "-"); return }
    row(target, shape, prec, sprintf(fmt, x), x >= goal ? "met" : "missed")
  }
  END {
    print "| target | shape | precision | measured | met? |"
    print "| --- | --- | --- | --- | --- |"
    for (t = 1; t <= 2; t++)
      for (i = 1; i <= ns; i++) {
        s = order[i]; goal = B[s] == 1 ? 1.5 : 1.0001
        x = ratio(peer["onednn|" t "|float|" s "|backward"], bptt[t "|float|" s "|backward"])
        show("oneDNN / bptt backward, " t " thread(s), >= " (B[s] == 1 ? "1.5" : "1"), s, "float", x, goal, "%.2fx")
      }
    for (i = 1; i <= ns; i++)
      for (p = 1; p <= 2; p++) {
        s = order[i]; prec = p == 1 ? "double" : "float"
        x = ratio(peer["torch|1|" prec "|" s "|forward_backward"], bptt["1|" prec "|" s "|forward_backward"])
        show("PyTorch / bptt forward+backward > 1", s, prec, x, 1.0001, "%.2fx")
      }
    for (i = 1; i <= ns; i++) {
      s = order[i]; if (B[s] != 1) continue
      x = frac["1|float|" s "|backward_recurrence"]
      if (x != "") x *= 100
      show("B = 1 recurrence >= 85% of the read limit", s, "float", x, 85, "%.1f%%")
    }
    for (i = 1; i <= ns; i++)
      for (p = 1; p <= 2; p++) {
        s = order[i]; prec = p == 1 ? "double" : "float"
        if (s != "(512,512,100,1)" && s != "(512,512,50,64)") continue
        x = ratio(bptt["1|" prec "|" s "|backward"], bptt["2|" prec "|" s "|backward"])
        show("backward, 1 thread / 2 threads >= 1.6", s, prec, x, 1.6, "%.2fx")
      }
    if (nfile >= 3)
      for (i = 1; i <= ns; i++)
        for (p = 1; p <= 2; p++) {
          s = order[i]; prec = p == 1 ? "double" : "float"
          x = ratio(bptt["3|" prec "|" s "|backward"], bptt["1|" prec "|" s "|backward"])
          show("other environment / this one, backward >= 0.95 (no slower)", s, prec, x, 0.95, "%.2fx")
        }
    printf "\n%d of %d targets met.\n", met, n
  }' "$1" "$2" "$other"
