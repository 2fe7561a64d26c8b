#!/bin/sh
# char-rnn-twin.sh CHAR_RNN TWIN [UPDATES [TOL]] — examples/char-rnn.c
# against its PyTorch twin (bench/char_rnn_torch.py), in double, from the
# same initial parameters (char-rnn --dump-init): both print each update's
# loss (--print-loss) over UPDATES updates (default 20); prints the largest
# |difference| and fails if it exceeds TOL (default 1e-10).  Exit 77
# (skipped) when no Python with torch is found: the first of $BENCH_PYTHON,
# python3, /usr/bin/python3 that imports it.
charrnn=$1 twin=$2 n=${3:-20} tol=${4:-1e-10}
py=
for c in "$BENCH_PYTHON" python3 /usr/bin/python3; do
    [ -n "$c" ] && "$c" -c 'import torch' >/dev/null 2>&1 && { py=$c; break; }
done
[ -n "$py" ] || { echo "no python with torch: skipped"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$charrnn" -n "$n" --print-loss --dump-init "$tmp/init" \
    -o "$tmp/ckpt" >"$tmp/bptt" || exit 1
"$py" "$twin" --init "$tmp/init" -n "$n" --print-loss \
    >"$tmp/torch" || exit 1
grep -E '^update [0-9]+ loss ' "$tmp/bptt" >"$tmp/a"
grep -E '^update [0-9]+ loss ' "$tmp/torch" >"$tmp/b"
paste "$tmp/a" "$tmp/b" | awk -v n="$n" -v tol="$tol" '
    $2 != $6 { print "update numbers differ: " $0; bad = 1 }
    { d = $4 - $8; d = d < 0 ? -d : d; if (d > max) max = d; k++ }
    END {
        printf "%d updates, max |loss(bptt) - loss(torch)| = %.3g (tolerance %g)\n", k, max, tol
        exit bad || k != n || !(max <= tol)
    }'
