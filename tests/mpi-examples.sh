#!/bin/sh
# mpi-examples.sh RUNNER TRAIN CHAR_RNN TEXT — the data-parallel examples
# under mpirun (meson suite 'mpi'): with --fixed their loss trajectories
# must be bitwise the same on 1, 2 and 3 ranks (the first line, which names
# the rank count, aside).  Exit 77 (skipped) when mpirun is absent.
run=$1 train=$2 charrnn=$3 text=$4
command -v mpirun >/dev/null 2>&1 || exit 77
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for np in 1 2 3; do
    "$run" $np "$train" --fixed 100 | tail -n +2 >"$tmp/train$np" || exit 1
    "$run" $np "$charrnn" --fixed "$text" 100 | tail -n +2 >"$tmp/char$np" ||
        exit 1
done
for f in train char; do
    [ -s "$tmp/${f}1" ] || { echo "$f: no output"; exit 1; }
    for np in 2 3; do
        cmp -s "$tmp/${f}1" "$tmp/$f$np" || {
            echo "$f: $np ranks differ from 1 rank:"
            diff "$tmp/${f}1" "$tmp/$f$np"
            exit 1
        }
    done
done
echo "mpi_train and mpi_char_rnn --fixed: bitwise the same on 1, 2, 3 ranks"
