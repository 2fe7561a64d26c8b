#!/usr/bin/env python3
"""model.py — the α–β projection of docs/mpi.md: data-parallel efficiency of
bptt's MPI module at 8–1024 ranks over 25 and 100 Gb/s links.

    python3 bench/mpi/model.py [--alpha US] [--dat FILE]

Inputs (edit SHAPES with figures from bptt-mpi-bench on your machine):
for each reference shape and precision, the one-rank time of a gradient
call (forward, loss, backward) and of its dW = ΔᵀS product, and the
gradient buffer's bytes.  Weak scaling: every rank keeps the shape's B, so
a step's compute stays the same and only the reduction grows.

Ring all-reduce of n bytes on p ranks (Patarasuk & Yuan 2009; the model
asked for): c(n) = 2(p−1)·α + 2(p−1)/p · n/β.

Overlap, as the module does it with bptt_mpi_set_panels(ctx, 0) (the
default is one panel, i.e. the no-overlap figure): the recurrence runs first
(nothing is final); then the panels of dW in halving sizes (half the rows, half the
rest, ..., at least 64 rows), panel i final at G_i = T_gemm · rows_i/dout
after the recurrence; each panel's all-reduce starts when the panel is
final and the link is free (one reduction at a time); the biases follow the
last panel.  exposed = end of the last reduction − end of the last panel.
efficiency = T_call / (T_call + exposed); hidden = 1 − exposed / c(all).
No overlap: exposed = c(all bytes) (one reduction).  The model assumes the
reductions progress while the GEMM runs (a NIC that moves data by itself,
or an MPI progress thread) and leaves out what splitting the GEMM costs
(each panel re-reads S); see docs/mpi.md.
"""
import sys

# (name, din, dout, T, B, bytes per element, T_call s, T_gemm s): one rank,
# medians of three runs of bptt-mpi-bench -np 1 --reps 9 on a quiet
# 2-core AMD EPYC (Zen 4), bench/results/mpi-amd-epyc-zen4-2core-quiet.txt.
SHAPES = [
    ("(256,256,100,32) f64", 256, 256, 100, 32, 8, 0.06278, 0.02414),
    ("(512,512,50,64) f64", 512, 512, 50, 64, 8, 0.19602, 0.08366),
    ("(256,256,100,32) f32", 256, 256, 100, 32, 4, 0.02878, 0.01100),
    ("(512,512,50,64) f32", 512, 512, 50, 64, 4, 0.09800, 0.04030),
]
RANKS = [8, 16, 32, 64, 128, 256, 512, 1024]
LINKS = [("25 Gb/s", 25e9 / 8), ("100 Gb/s", 100e9 / 8)]
MIN_PANEL = 64


def panels(dout):
    """Row counts of the halving panels (lib/mpi/mpi.c, panel_rows)."""
    rows, r0 = [], 0
    while r0 < dout:
        pr = max((dout - r0 + 1) // 2, MIN_PANEL)
        pr = min(pr, dout - r0)
        rows.append(pr)
        r0 += pr
    return rows


def ring(p, nbytes, alpha, beta):
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes / beta


def project(shape, p, alpha, beta):
    name, din, dout, T, B, elem, tcall, tgemm = shape
    m = din + dout
    total = ring(p, (dout * m + dout) * elem, alpha, beta)
    t_done, link_free = 0.0, 0.0
    for rows in panels(dout):
        t_done += tgemm * rows / dout          # this panel is final
        start = max(t_done, link_free)
        link_free = start + ring(p, rows * m * elem, alpha, beta)
    link_free += ring(p, dout * elem, alpha, beta)  # the biases, last
    exposed = link_free - t_done
    eff = tcall / (tcall + exposed)
    eff_no = tcall / (tcall + total)
    hidden = 1 - exposed / total
    return eff, eff_no, hidden, total


def main():
    alpha = 5e-6
    dat = None
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--alpha":
            alpha = float(args.pop(0)) * 1e-6
        elif a == "--dat":
            dat = args.pop(0)
        else:
            sys.exit(__doc__)
    print(f"alpha = {alpha * 1e6:g} us per message step, ring all-reduce, "
          "weak scaling (B per rank fixed)\n")
    print("| shape | link | " + " | ".join(f"p={p}" for p in RANKS) + " |")
    print("|---|---|" + "---|" * len(RANKS))
    for shape in SHAPES:
        for lname, beta in LINKS:
            cells = []
            for p in RANKS:
                eff, eff_no, hidden, total = project(shape, p, alpha, beta)
                cells.append(f"{100 * eff:.1f}% ({100 * hidden:.0f}%)")
            print(f"| {shape[0]} | {lname} | " + " | ".join(cells) + " |")
    print("\ncells: efficiency with the overlap (fraction of the reduction "
          "hidden)\n")
    print("where communication stops hiding behind the backward: the "
          "overlap hides < 50% of the reduction from p =, and no longer beats "
          "one reduction after the backward (each bucket pays the latency "
          "2(p-1)a) from p =")
    for shape in SHAPES:
        for lname, beta in LINKS:
            half = [p for p in RANKS
                    if project(shape, p, alpha, beta)[2] < 0.5]
            worse = [p for p in RANKS
                     if project(shape, p, alpha, beta)[0] <
                     project(shape, p, alpha, beta)[1]]
            print(f"  {shape[0]}, {lname}: hidden < 50% from " +
                  (f"p = {half[0]}" if half else "none up to 1024") +
                  "; overlap loses from " +
                  (f"p = {worse[0]}" if worse else "none up to 1024"))
    print("\nat 64 ranks over 25 Gb/s (efficiency with / without overlap):")
    for shape in SHAPES:
        eff, eff_no, hidden, total = project(shape, 64, alpha, 25e9 / 8)
        print(f"  {shape[0]}: {100 * eff:.1f}% / {100 * eff_no:.1f}%, "
              f"reduction {1e3 * total:.2f} ms vs call "
              f"{1e3 * shape[6]:.1f} ms")
    if dat:  # one row per p; per shape and link: overlap, no overlap (%)
        with open(dat, "w") as f:
            f.write("# p" + "".join(
                f' "{sh[0]}, {ln}: overlap" "... no overlap"'
                for sh in SHAPES for ln, _ in LINKS) + "\n")
            for p in RANKS:
                cols = []
                for sh in SHAPES:
                    for _, beta in LINKS:
                        eff, eff_no, _, _ = project(sh, p, alpha, beta)
                        cols += [f"{100 * eff:.3f}", f"{100 * eff_no:.3f}"]
                f.write(f"{p} " + " ".join(cols) + "\n")

if __name__ == "__main__":
    main()
