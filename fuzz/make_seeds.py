#!/usr/bin/env python3
"""make_seeds.py — write starting seeds for the ops of fuzz_api: N inputs
per op of random bytes (fixed seed), the first byte the op's index.  They
only give libFuzzer a start; the committed corpus is what a run of the
fuzzer made of them, merged (fuzz/README.md).

Usage: python3 fuzz/make_seeds.py OUTDIR FIRST_OP LAST_OP [N]"""
import os
import random
import sys

out, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = int(sys.argv[4]) if len(sys.argv) > 4 else 20
rng = random.Random(20240601)
os.makedirs(out, exist_ok=True)
for op in range(first, last + 1):
    for i in range(n):
        body = bytes(rng.randrange(256) for _ in range(rng.choice([48, 160, 600])))
        with open(os.path.join(out, "seed-%02d-%02d" % (op, i)), "wb") as f:
            f.write(bytes([op]) + body)
