#!/bin/sh
# bench-smoke.sh EXE MODE — bptt-bench end to end on tiny shapes, checked
# from its CSV (no speed is asserted; the harness reports it):
#   smoke   two shapes, both precisions, a 5 ms budget: exit 0, the required
#           columns, exactly one row per (precision, shape, algorithm, pass)
#           for every algorithm the library lists and the passes forward and
#           backward, consistent numbers; the JSON parses (python3, which
#           meson itself runs on) and holds the same records.
#   refuse  --test-corrupt on each algorithm in turn: exit 1, the reason on
#           stderr, no row for that algorithm, all rows for the others.
#   usage   bad command lines: exit 2, the usage on stderr, no file written.
set -eu
exe=$1
mode=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shapes="8,8,10,1 5,7,6,3"
algos=$("$exe" --list-algos | tr '\n' ' ')
[ -n "$algos" ] || { echo "no algorithms listed"; exit 1; }

run() { # extra arguments; sets rc
  set +e
  "$exe" --shape 8,8,10,1 --shape 5,7,6,3 --budget-ms 5 --csv "$tmp/out.csv" \
         --json "$tmp/out.json" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  set -e
}

# check_csv FILE "ALGOS": one row per case, algorithm in ALGOS and pass
# (forward and backward always, backward_data/_weights at most once), no
# row for any other algorithm, and sane numbers in every row.
check_csv() {
  awk -F, -v algos="$2" -v shapes="$shapes" '
    function fail(msg) { print FILENAME ":" NR ": " msg; bad = 1 }
    NR == 1 {
      ncol = NF
      for (i = 1; i <= NF; i++) col[$i] = i
      nreq = split("algo precision din dout T B threads pass median_ms " \
                   "min_ms max_ms q1_ms q3_ms gflops speedup_vs_naive " \
                   "default", req, " ")
      for (i = 1; i <= nreq; i++)
        if (!(req[i] in col)) { fail("missing column " req[i]); exit 1 }
      nalgo = split(algos, want, " ")
      for (i = 1; i <= nalgo; i++) wanted[want[i]] = 1
      next
    }
    {
      if (NF != ncol) fail(NF " fields, header has " ncol)
      a = $col["algo"]; p = $col["pass"]
      shape = $col["din"] "," $col["dout"] "," $col["T"] "," $col["B"]
      key = $col["precision"] "|" shape "|" a "|" p
      if (!(a in wanted)) fail("row for algorithm " a)
      if (p !~ /^(forward|backward|backward_data|backward_weights)$/)
        fail("pass " p)
      if (++count[key] > 1) fail("second row for " key)
      if ($col["threads"] != 1) fail("threads " $col["threads"])
      lo = $col["min_ms"] + 0; q1 = $col["q1_ms"] + 0
      med = $col["median_ms"] + 0; q3 = $col["q3_ms"] + 0
      hi = $col["max_ms"] + 0
      if (!(med > 0 && lo <= q1 && q1 <= med && med <= q3 && q3 <= hi))
        fail("times out of order: " lo " " q1 " " med " " q3 " " hi)
      if (!($col["gflops"] > 0)) fail("gflops " $col["gflops"])
      if (a == "naive" && $col["speedup_vs_naive"] != 1)
        fail("naive speedup " $col["speedup_vs_naive"])
      defaults[$col["precision"] "|" shape "|" p] += $col["default"]
    }
    END {
      if (NR < 2) fail("no rows")
      nshape = split(shapes, sh, " ")
      for (q = 1; q <= 2; q++)
        for (s = 1; s <= nshape; s++)
          for (i = 1; i <= nalgo; i++)
            for (k = 1; k <= 2; k++) {
              key = (q == 1 ? "double" : "float") "|" sh[s] "|" want[i] "|" \
                    (k == 1 ? "forward" : "backward")
              if (count[key] != 1) fail("no row for " key)
            }
      for (d in defaults)
        if (defaults[d] > 1) fail(defaults[d] " defaults for " d)
      exit bad
    }' "$1"
}

case $mode in
smoke)
  run
  [ "$rc" = 0 ] || { cat "$tmp/stderr"; echo "exit $rc, want 0"; exit 1; }
  check_csv "$tmp/out.csv" "$algos"
  # Each case names what BPTT_ALGO_AUTO resolves to.
  n=$(grep -c 'auto -> ' "$tmp/stdout")
  [ "$n" = 4 ] || { echo "$n case headings name the default, want 4"; exit 1; }
  rows=$(($(wc -l <"$tmp/out.csv") - 1))
  python3 - "$tmp/out.json" "$rows" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
env = doc["environment"]
for key in ("cpu", "blas_vendor", "blas_config", "blas_core", "blas_threads",
            "compiler", "cflags", "date", "bptt_version"):
    assert env.get(key) not in (None, ""), "environment lacks " + key
assert len(doc["records"]) == int(sys.argv[2]), "records differ from CSV rows"
assert {l["precision"] for l in doc["limits"]} == {"double", "float"}
assert all(l["gemm_gflops"] > 0 and l["gemv_gbs"] > 0 for l in doc["limits"])
assert doc["refused"] == []
PY
  ;;
refuse)
  for bad in $algos; do
    run --test-corrupt "$bad"
    [ "$rc" = 1 ] || { echo "--test-corrupt $bad: exit $rc, want 1"; exit 1; }
    grep -q "refused $bad (double" "$tmp/stderr" &&
      grep -q "refused $bad (float" "$tmp/stderr" ||
      { cat "$tmp/stderr"; echo "no refusal of $bad on stderr"; exit 1; }
    others=$(echo "$algos" | tr ' ' '\n' | grep -vx "$bad" | tr '\n' ' ')
    check_csv "$tmp/out.csv" "$others"
    python3 -c 'import json, sys
doc = json.load(open(sys.argv[1]))
assert len(doc["refused"]) == 4, doc["refused"]
assert all(r["algo"] == sys.argv[2] for r in doc["refused"])
assert not any(r["algo"] == sys.argv[2] for r in doc["records"])' \
      "$tmp/out.json" "$bad"
  done
  ;;
usage)
  for args in "--shape 1,2,3" "--shape 0,2,3,4" "--shape a,b,c,d" \
              "--shape 1,2,3,4,5" "--shape 1,2,3,-4" "--shape 1,,2,3" \
              "--algo nosuch" "--precision quad" "--budget-ms 0" \
              "--budget-ms abc" "--threads 0" "--threads 2x" "--bogus" \
              "--quick=1" "--test-corrupt nosuch" "--csv"; do
    set +e
    # shellcheck disable=SC2086 # split on purpose
    "$exe" --json "$tmp/u.json" $args >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
    set -e
    [ "$rc" = 2 ] || { echo "$args: exit $rc, want 2"; exit 1; }
    grep -q '^usage: bptt-bench' "$tmp/stderr" ||
      { echo "$args: no usage on stderr"; exit 1; }
    [ ! -e "$tmp/u.json" ] || { echo "$args: wrote a file"; exit 1; }
  done
  "$exe" --help >"$tmp/stdout"
  grep -q '^usage: bptt-bench' "$tmp/stdout"
  ;;
*)
  echo "unknown mode $mode"; exit 2 ;;
esac
echo "bench-$mode: ok"
