#!/bin/sh
# char-rnn-resume.sh CHAR_RNN — a checkpoint brings back the parameters and
# Adam's state exactly.  Every stream starts again from a zero state at an
# epoch's start (E updates: (n - n/10 - 1)/B/T for a text of n bytes, T = 32,
# B = 8 as in char-rnn.c), so a run resumed from the checkpoint of update E
# must print the same losses for updates E+1..E+7, bitwise, as one run of
# E+7 updates.
charrnn=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$charrnn" -n 1 -o "$tmp/ck" >"$tmp/one.out" || exit 1
n=$(sed -n '1s/.*: \([0-9]*\) bytes,.*/\1/p' "$tmp/one.out")
[ -n "$n" ] || { echo "no text size in: $(head -1 "$tmp/one.out")"; exit 1; }
e=$(( (n - n / 10 - 1) / 8 / 32 )) end=$(( (n - n / 10 - 1) / 8 / 32 + 7 ))
"$charrnn" -n $end --print-loss -o "$tmp/all" >"$tmp/all.out" || exit 1
"$charrnn" -n $e -o "$tmp/ck" >/dev/null || exit 1
"$charrnn" -n $end --print-loss -r "$tmp/ck" -o "$tmp/ck" >"$tmp/res.out" ||
    exit 1
grep -q "updates $((e + 1))\.\.$end\$" "$tmp/res.out" || {
    echo "the resumed run does not start at update $((e + 1)):"
    head -1 "$tmp/res.out"
    exit 1
}
awk -v e=$e '/^update [0-9]+ loss / && $2 > e' "$tmp/all.out" >"$tmp/a"
grep -E '^update [0-9]+ loss ' "$tmp/res.out" >"$tmp/b"
[ "$(wc -l <"$tmp/a")" -eq 7 ] && cmp -s "$tmp/a" "$tmp/b" || {
    echo "resumed losses differ from the continuous run's:"
    diff "$tmp/a" "$tmp/b"
    exit 1
}
echo "resumed after update $e (an epoch): 7 losses bitwise those of one run"
