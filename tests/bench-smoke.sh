#!/bin/sh
# bench-smoke.sh EXE MODE — bptt-bench end to end on tiny shapes, checked
# from its CSV (no speed is asserted; the harness reports it):
#   smoke   two shapes, both precisions, all-tanh and mixed units, a 5 ms
#           budget: exit 0, the required columns, exactly one row per
#           (precision, shape, units, algorithm, pass) — forward and
#           backward for every bptt algorithm, backward_data,
#           backward_recurrence and the derived backward_weights for all
#           but naive, forward_backward
#           for the default, sequence and step for RTRL, forward, backward
#           and forward_backward for every peer available here (--list-
#           peers; none on CI) on tanh units, oneDNN in float only —
#           consistent numbers, derived rows marked and never looking
#           measured; the ratio lines; the JSON parses (python3, which
#           meson itself runs on) and holds the same records; targets.sh
#           reads the CSV.
#   refuse  --test-corrupt on each algorithm and each available peer in
#           turn: exit 1, the reason on stderr, no row for it, all rows for
#           the others.
#   usage   bad command lines: exit 2, the usage on stderr, no file written.
#   gated   --cell lstm and gru: exit 0, exactly forward, backward and
#           forward_backward of deferred and of every peer available here
#           (oneDNN in float only) per (precision, shape), the column cell,
#           a ratio line per peer; then --test-corrupt on deferred and each
#           peer: exit 1, the refusal on stderr, no row for it.
set -eu
exe=$1
mode=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shapes="8,8,10,1 5,7,6,3"
algos=$("$exe" --list-algos | tr '\n' ' ')
[ -n "$algos" ] || { echo "no algorithms listed"; exit 1; }
peers=$("$exe" --list-peers | tr '\n' ' ')
for p in $peers; do
  case $p in onednn|torch) ;; *) echo "unknown peer listed: $p"; exit 1 ;; esac
done

run() { # extra arguments; sets rc
  set +e
  "$exe" --shape 8,8,10,1 --shape 5,7,6,3 --budget-ms 5 --csv "$tmp/out.csv" \
         --json "$tmp/out.json" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  set -e
}

# check_csv FILE "ALGOS" "PEERS" "UNITS": exactly the rows described above
# for the algorithms in ALGOS, the peers in PEERS and the units in UNITS,
# no row for any other, and sane numbers in every row.
check_csv() {
  awk -F, -v algos="$2" -v peers="$3" -v units="$4" -v shapes="$shapes" '
    function fail(msg) { print FILENAME ":" NR ": " msg; bad = 1 }
    function want(key) { if (count[key] != 1) fail("no row for " key) }
    NR == 1 {
      ncol = NF
      for (i = 1; i <= NF; i++) col[$i] = i
      nreq = split("algo precision din dout T B threads pass median_ms " \
                   "min_ms max_ms q1_ms q3_ms reps gflops speedup_vs_naive " \
                   "default activations derived memory_bytes", req, " ")
      for (i = 1; i <= nreq; i++)
        if (!(req[i] in col)) { fail("missing column " req[i]); exit 1 }
      nalgo = split(algos, al, " ")
      for (i = 1; i <= nalgo; i++) known[al[i]] = 1
      npeer = split(peers, pe, " ")
      for (i = 1; i <= npeer; i++) { known[pe[i]] = 1; peer[pe[i]] = 1 }
      nunit = split(units, un, " ")
      for (i = 1; i <= nunit; i++) unit[un[i]] = 1
      next
    }
    {
      if (NF != ncol) fail(NF " fields, header has " ncol)
      a = $col["algo"]; p = $col["pass"]; u = $col["activations"]
      shape = $col["din"] "," $col["dout"] "," $col["T"] "," $col["B"]
      cse = $col["precision"] "|" shape "|" u
      key = cse "|" a "|" p
      if (!(a in known)) fail("row for algorithm " a)
      if (!(u in unit)) fail("units " u)
      if (p !~ /^(forward|backward|backward_data|backward_weights|backward_recurrence|forward_backward|sequence|step)$/)
        fail("pass " p)
      if (++count[key] > 1) fail("second row for " key)
      if ($col["threads"] != 1) fail("threads " $col["threads"])
      if (a in peer) {
        if (u != "tanh") fail("peer " a " on " u " units")
        if ($col["memory_bytes"] != "") fail("memory of a peer")
      } else if (!($col["memory_bytes"] > 0)) {
        fail("memory_bytes " $col["memory_bytes"])
      }
      if (p == "backward_weights") {
        # derived: a difference of medians, never looking measured
        if ($col["derived"] != 1) fail("backward_weights not marked derived")
        if ($col["reps"] != 0 || $col["q1_ms"] != "" || $col["q3_ms"] != "" \
            || $col["min_ms"] != "" || $col["max_ms"] != "")
          fail("derived row with measured-looking figures")
        if ($col["median_ms"] == "") fail("derived row without a median")
        next
      }
      if ($col["derived"] != 0) fail("measured row marked derived")
      lo = $col["min_ms"] + 0; q1 = $col["q1_ms"] + 0
      med = $col["median_ms"] + 0; q3 = $col["q3_ms"] + 0
      hi = $col["max_ms"] + 0
      if (!(med > 0 && lo <= q1 && q1 <= med && med <= q3 && q3 <= hi))
        fail("times out of order: " lo " " q1 " " med " " q3 " " hi)
      if (!($col["reps"] >= 1)) fail("reps " $col["reps"])
      if (!($col["gflops"] > 0)) fail("gflops " $col["gflops"])
      if (a == "naive" && p ~ /^(forward|backward)$/ && \
          $col["speedup_vs_naive"] != 1)
        fail("naive speedup " $col["speedup_vs_naive"])
      defaults[cse "|" p] += $col["default"]
      if ($col["default"] == 1) dflt[cse] = a
    }
    END {
      if (NR < 2) fail("no rows")
      nshape = split(shapes, sh, " ")
      for (q = 1; q <= 2; q++)
        for (s = 1; s <= nshape; s++)
          for (v = 1; v <= nunit; v++) {
            prec = q == 1 ? "double" : "float"
            cse = prec "|" sh[s] "|" un[v]
            for (i = 1; i <= nalgo; i++) {
              a = al[i]; k = cse "|" a "|"
              if (a ~ /^rtrl-/) {
                want(k "sequence"); want(k "step")
                continue
              }
              want(k "forward"); want(k "backward")
              if (a == "naive") {
                if (count[k "backward_data"]) fail("naive backward_data")
                if (count[k "backward_recurrence"]) fail("naive backward_recurrence")
              } else {
                want(k "backward_data"); want(k "backward_weights")
                want(k "backward_recurrence")
              }
              if (dflt[cse] == a) want(k "forward_backward")
              else if (count[k "forward_backward"])
                fail("forward_backward of " a ", not the default")
            }
            for (i = 1; un[v] == "tanh" && i <= npeer; i++) {
              if (pe[i] == "onednn" && prec == "double") continue
              k = cse "|" pe[i] "|"
              want(k "forward"); want(k "backward"); want(k "forward_backward")
            }
          }
      for (d in defaults)
        if (defaults[d] > 1) fail(defaults[d] " defaults for " d)
      exit bad
    }' "$1"
}

# check_json FILE ROWS [REFUSED_ALGO REFUSALS]
check_json() {
  python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
env = doc["environment"]
for key in ("cpu", "compiler", "cflags", "date", "bptt_version"):
    assert env.get(key) not in (None, ""), "environment lacks " + key
# the BLAS report: every field, and "representative" the negation of
# "weaker", which is set exactly when the remedy is given
blas = doc["blas"]
for key in ("vendor", "version", "core", "config", "threads", "blas_isa",
            "cpu_isa", "kernel_isa", "weaker", "remedy", "representative"):
    assert key in blas, "blas lacks " + key
assert blas["vendor"] != "" and blas["cpu_isa"] != "unknown"
assert blas["representative"] == (not blas["weaker"])
assert (blas["remedy"] != "") == blas["weaker"]
assert list(doc)[0] == "blas", "the BLAS report comes first"
assert "peers" in env
assert len(doc["records"]) == int(sys.argv[2]), "records differ from CSV rows"
assert {l["precision"] for l in doc["limits"]} == {"double", "float"}
assert all(l["gemm_gflops"] > 0 for l in doc["limits"])
# a read limit for every case's Wy, and every record's fraction of its
# limit follows from the record's own figures
for l in doc["limits"]:
    assert l["read"] and all(x["gbs"] > 0 for x in l["read"]), l
for r in doc["records"]:
    assert r["limit"] in ("gemm", "read"), r
    if r["derived"]:
        assert r["fraction_of_limit"] is None, r
    elif r["gflops"] is not None:
        assert abs(r["fraction_of_limit"] - r["gflops"] / r["limit_gflops"]) \
            <= 1e-4 * r["fraction_of_limit"], r
for r in doc["records"]:
    if r["derived"]:
        assert r["reps"] == 0 and r["q1_ms"] is None and r["max_ms"] is None
if len(sys.argv) > 3:
    bad, n = sys.argv[3], int(sys.argv[4])
    assert len(doc["refused"]) == n, doc["refused"]
    assert all(r["algo"] == bad for r in doc["refused"])
    assert not any(r["algo"] == bad for r in doc["records"])
else:
    assert doc["refused"] == [], doc["refused"]
# every RTRL case notes where BPTT's memory exceeds RTRL's
assert any(n["subject"] == "rtrl" and "exceeds RTRL's from T = " in n["note"]
           for n in doc["notes"]), doc["notes"]
PY
}

case $mode in
smoke)
  run --activations all
  [ "$rc" = 0 ] || { cat "$tmp/stderr"; echo "exit $rc, want 0"; exit 1; }
  check_csv "$tmp/out.csv" "$algos" "$peers" "tanh mixed"
  # Each case names what BPTT_ALGO_AUTO resolves to; each mixed case its
  # ratio to the all-tanh twin; each peer its ratio to the default; each
  # case with a derived time the footnote.
  n=$(grep -c 'auto -> ' "$tmp/stdout")
  [ "$n" = 8 ] || { echo "$n case headings name the default, want 8"; exit 1; }
  n=$(grep -c '^  mixed / all-tanh (.*), median time: forward .*x, backward .*x$' "$tmp/stdout")
  [ "$n" = 4 ] || { echo "$n mixed/all-tanh ratio lines, want 4"; exit 1; }
  n=$(grep -c '^  \* derived, not measured' "$tmp/stdout")
  [ "$n" = 8 ] || { echo "$n derived footnotes, want 8"; exit 1; }
  for p in $peers; do
    want=4; [ "$p" = onednn ] && want=2
    n=$(grep -c "^  $p / bptt (.*), median time: backward [0-9.]*x ([a-z]* *[a-z]*), forward+backward [0-9.]*x ([a-z]* *[a-z]*)$" "$tmp/stdout")
    [ "$n" = "$want" ] || { echo "$n ratio lines of $p, want $want"; exit 1; }
  done
  rows=$(($(wc -l <"$tmp/out.csv") - 1))
  check_json "$tmp/out.json" "$rows"
  # The BLAS report comes before anything measured; a weaker BLAS is
  # called out on the first line and again at the end, a good one never.
  weaker=$(python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["blas"]["weaker"]))' "$tmp/out.json")
  n=$(grep -c '^NOT REPRESENTATIVE: ' "$tmp/stdout" || true)
  [ "$n" = $((2 * weaker)) ] || { echo "$n NOT REPRESENTATIVE lines, weaker=$weaker"; exit 1; }
  sed -n "$((1 + weaker))p" "$tmp/stdout" | grep -q '^BLAS      ' ||
    { head -3 "$tmp/stdout"; echo "the BLAS report is not first"; exit 1; }
  if [ "$weaker" = 1 ]; then
    head -1 "$tmp/stdout" | grep -q '^NOT REPRESENTATIVE: '
    tail -1 "$tmp/stdout" | grep -q '^NOT REPRESENTATIVE: '
  fi
  # targets.sh reads the CSV: none of the reference shapes ran here, so
  # every one of its 29 targets says so
  sh "$(dirname "$0")/../bench/targets.sh" "$tmp/out.csv" >"$tmp/targets"
  n=$(grep -c '| not run |$' "$tmp/targets")
  [ "$n" = 29 ] || { cat "$tmp/targets"; echo "$n targets not run, want 29"; exit 1; }
  # --peers none runs none
  run --peers none --algo deferred
  [ "$rc" = 0 ] || { cat "$tmp/stderr"; echo "--peers none: exit $rc"; exit 1; }
  check_csv "$tmp/out.csv" "naive deferred" "" "tanh"
  ;;
refuse)
  for bad in $algos $peers; do
    case " $peers " in
    *" $bad "*) with="--peers $bad"; others=$algos; want=4
                [ "$bad" = onednn ] && want=2 ;;
    *) with="--peers none"
       others=$(echo "$algos" | tr ' ' '\n' | grep -vx "$bad" | tr '\n' ' ')
       want=4 ;;
    esac
    # shellcheck disable=SC2086 # split on purpose
    run --test-corrupt "$bad" $with
    [ "$rc" = 1 ] || { echo "--test-corrupt $bad: exit $rc, want 1"; exit 1; }
    grep -q "refused $bad (float" "$tmp/stderr" ||
      { cat "$tmp/stderr"; echo "no refusal of $bad on stderr"; exit 1; }
    [ "$want" = 2 ] || grep -q "refused $bad (double" "$tmp/stderr" ||
      { cat "$tmp/stderr"; echo "no refusal of $bad in double"; exit 1; }
    check_csv "$tmp/out.csv" "$others" "" "tanh"
    check_json "$tmp/out.json" "$(($(wc -l <"$tmp/out.csv") - 1))" "$bad" "$want"
  done
  ;;
usage)
  for args in "--shape 1,2,3" "--shape 0,2,3,4" "--shape a,b,c,d" \
              "--shape 1,2,3,4,5" "--shape 1,2,3,-4" "--shape 1,,2,3" \
              "--algo nosuch" "--precision quad" "--budget-ms 0" \
              "--budget-ms abc" "--threads 0" "--threads 2x" "--bogus" \
              "--quick=1" "--test-corrupt nosuch" "--csv" "--peers bogus" \
              "--peers onednn,,torch" "--peers" "--activations sigmoid" \
              "--rtrl=1" "--cell bogus" "--check-steps 0" \
              "--check-steps x"; do
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
gated)
  for cell in lstm gru; do
    run --cell "$cell" --check-steps 4
    [ "$rc" = 0 ] || { cat "$tmp/stderr"; echo "--cell $cell: exit $rc"; exit 1; }
    python3 - "$tmp/out.csv" "$cell" "$peers" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cell, peers = sys.argv[2], sys.argv[3].split()
want = set()
for prec in ("double", "float"):
    for shape in (("8", "8", "10", "1"), ("5", "7", "6", "3")):
        for algo in ["deferred"] + peers:
            if algo == "onednn" and prec == "double":
                continue
            for p in ("forward", "backward", "forward_backward"):
                want.add((algo, prec) + shape + (p,))
got = [(r["algo"], r["precision"], r["din"], r["dout"], r["T"], r["B"],
        r["pass"]) for r in rows]
assert len(got) == len(set(got)) and set(got) == want, (sorted(got), sorted(want))
for r in rows:
    assert r["cell"] == cell and r["activations"] == "gates", r
    assert float(r["median_ms"]) > 0 and float(r["gflops"]) > 0, r
    assert (r["floor_ms"] != "") == (r["algo"] == "deferred"
                                     and r["pass"] != "forward_backward"), r
PY
    for p in $peers; do
      want=4; [ "$p" = onednn ] && want=2
      n=$(grep -c "^  $p / bptt (deferred), median time: backward" "$tmp/stdout")
      [ "$n" = "$want" ] || { echo "$cell: $n ratio lines of $p, want $want"; exit 1; }
    done
    for bad in deferred $peers; do
      with=$bad; [ "$bad" = deferred ] && with=none
      run --cell "$cell" --test-corrupt "$bad" --precision float --peers "$with"
      [ "$rc" = 1 ] || { echo "$cell --test-corrupt $bad: exit $rc, want 1"; exit 1; }
      grep -q "refused $bad (float $cell" "$tmp/stderr" ||
        { cat "$tmp/stderr"; echo "$cell: no refusal of $bad"; exit 1; }
      ! grep -q "^$bad," "$tmp/out.csv" ||
        { echo "$cell: rows of the refused $bad"; exit 1; }
    done
  done
  ;;
*)
  echo "unknown mode $mode"; exit 2 ;;
esac
echo "bench-$mode: ok"
