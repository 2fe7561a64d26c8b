#!/bin/sh
# targets.sh CSV — the targets of issues 4 and 5 from one bptt-bench run
# (its CSV, all-tanh rows, medians), as a Markdown table: each target, the
# figure measured and whether it is met.
#
#   bptt-bench --csv bench.csv && sh bench/targets.sh bench.csv
#
# Issue 4 (bptt's default algorithm, the row default = 1):
#   backward vs naive           >= 5x at (512,512,100,1), >= 30x at
#                               (256,256,100,32), double;
#   backward / its BLAS floor   <= 1.25 at every reference shape;
#   PyTorch fwd+bwd / bptt's    > 1 at every reference shape, both
#                               precisions (where torch ran);
#   oneDNN backward / bptt's    > 1 at every reference shape, float (where
#                               onednn ran);
#   backward GFLOP/s            >= 70% of the GEMM limit at (512,512,50,64).
# Issue 5: rtrl-gemm >= 60% of the GEMM limit for dout >= 64, double.
set -eu
[ $# = 1 ] || { echo "usage: targets.sh CSV" >&2; exit 2; }
awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  ("activations" in c) && $c["activations"] != "tanh" { next }
  {
    shape = "(" $c["din"] "," $c["dout"] "," $c["T"] "," $c["B"] ")"
    k = $c["precision"] "|" shape
    if ($c["default"] == 1) {
      dflt[k "|" $c["pass"]] = $c["median_ms"]
      name[k] = $c["algo"]
      if ($c["pass"] == "backward") {
        floor[k] = $c["ratio_to_floor"]; speed[k] = $c["speedup_vs_naive"]
        frac[k] = $c["fraction_of_limit"]
      }
    }
    med[$c["algo"] "|" k "|" $c["pass"]] = $c["median_ms"]
    if ($c["algo"] == "rtrl-gemm" && $c["precision"] == "double" &&
        $c["dout"] >= 64) {
      rtrl[++nr] = shape " " $c["pass"]; rfrac[nr] = $c["fraction_of_limit"]
    }
  }
  function row(target, shape, prec, figure, ok) {
    printf "| %s | %s | %s | %s | %s |\n", target, shape, prec, figure,
           ok == "" ? "not run" : (ok ? "met" : "**not met**")
  }
  function have(x) { return x != "" }
  END {
    nref = split("(32,32,100,1) (128,128,100,1) (512,512,100,1) " \
                 "(256,256,100,32) (512,512,50,64)", ref, " ")
    print "| target | shape | precision | measured | |"
    print "| --- | --- | --- | --- | --- |"
    split("(512,512,100,1) 5 (256,256,100,32) 30", sp, " ")
    for (i = 1; i <= 3; i += 2) {
      k = "double|" sp[i]
      row("default backward vs naive >= " sp[i + 1] "x", sp[i], "double",
          have(speed[k]) ? sprintf("%.1fx", speed[k]) : "-",
          have(speed[k]) ? speed[k] >= sp[i + 1] : "")
    }
    for (i = 1; i <= nref; i++)
      for (q = 1; q <= 2; q++) {
        p = q == 1 ? "double" : "float"; k = p "|" ref[i]
        row("backward <= 1.25x its BLAS floor", ref[i], p,
            have(floor[k]) ? sprintf("%.2fx", floor[k]) : "-",
            have(floor[k]) ? floor[k] <= 1.25 : "")
      }
    for (i = 1; i <= nref; i++)
      for (q = 1; q <= 2; q++) {
        p = q == 1 ? "double" : "float"; k = p "|" ref[i]
        t = med["torch|" k "|forward_backward"]
        b = dflt[k "|forward_backward"]
        row("PyTorch fwd+bwd / bptt fwd+bwd > 1", ref[i], p,
            have(t) && have(b) ? sprintf("%.2f (%.4g / %.4g ms)", t / b, t, b) : "-",
            have(t) && have(b) ? t / b > 1 : "")
      }
    for (i = 1; i <= nref; i++) {
      k = "float|" ref[i]
      t = med["onednn|" k "|backward"]; b = dflt[k "|backward"]
      row("oneDNN backward / bptt backward > 1", ref[i], "float",
          have(t) && have(b) ? sprintf("%.2f (%.4g / %.4g ms)", t / b, t, b) : "-",
          have(t) && have(b) ? t / b > 1 : "")
    }
    for (q = 1; q <= 2; q++) {
      p = q == 1 ? "double" : "float"; k = p "|(512,512,50,64)"
      row("backward >= 70% of the GEMM limit", "(512,512,50,64)", p,
          have(frac[k]) ? sprintf("%.1f%%", 100 * frac[k]) : "-",
          have(frac[k]) ? frac[k] >= 0.70 : "")
    }
    for (i = 1; i <= nr; i++) {
      split(rtrl[i], rs, " ")
      row("rtrl-gemm " rs[2] " >= 60% of the GEMM limit (issue 5)", rs[1],
          "double", sprintf("%.1f%%", 100 * rfrac[i]), rfrac[i] >= 0.60)
    }
  }' "$1"
