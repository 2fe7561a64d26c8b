#!/usr/bin/env python3
"""char_rnn_torch.py: the PyTorch twin of examples/char-rnn.c (tanh core).

    usage: char_rnn_torch.py --init FILE [-n UPDATES] [-e EVERY] [--lr RATE]
                             [--print-loss] [TEXT]

The same model, data and training as `char-rnn --cell vanilla`, in float64:
Network B, h_t = tanh(W [x_t; h_{t-1}] + bh), y_t = softmax(Wo h_t + bo),
the classes the text's distinct bytes in byte order, its last tenth the
validation text; B streams, each through its own B-th of the training text,
T bytes per update, the state carried from chunk to chunk and detached (the
gradient stops at the chunk's start), reset at each epoch; the mean
cross-entropy over the T*B predictions; the gradient's global norm clipped
to CLIP exactly as bptt_clip_global_norm does (g *= CLIP/||g|| when
||g|| > CLIP; torch's clip_grad_norm_ adds 1e-6 to the norm); Adam with
torch's defaults (foreach=False: the single-tensor loop whose rounding
bptt_optim_step follows).

FILE holds the initial parameters as `char-rnn --dump-init FILE` writes
them: raw float64 in the order of bptt_elman_param_layout, W (DH x
(V+DH), [Wi | Wh]), bh (DH), Wo (V x DH), bo (V).  --print-loss prints
every update's loss as char-rnn does ("update U loss L", all digits); the
progress lines ("update U  loss L  val V") come every EVERY updates and at
the end.  bench/char-rnn-twin.sh compares the two programs.
"""
import argparse
import sys

import numpy as np
import torch
import torch.nn.functional as F

DH, T, B, CLIP = 128, 32, 8, 5.0  # as in examples/char-rnn.c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("-e", type=int, default=100)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--print-loss", action="store_true")
    ap.add_argument("text", nargs="?", default="/usr/share/common-licenses/GPL-3")
    a = ap.parse_args()
    torch.set_num_threads(1)

    data = open(a.text, "rb").read()[: 1 << 24]
    chars = sorted(set(data))
    V = len(chars)
    cls = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([cls[c] for c in data], dtype=torch.long)
    n = len(data)
    nval = n // 10
    ntrain = n - nval

    M = V + DH
    p0 = np.fromfile(a.init, dtype=np.float64)
    count = DH * M + DH + V * DH + V
    if p0.size != count:
        sys.exit(f"{a.init}: {p0.size} parameters, want {count} (V = {V})")
    p = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    W = p[: DH * M].view(DH, M)
    bh = p[DH * M : DH * M + DH]
    Wo = p[DH * M + DH : DH * M + DH + V * DH].view(V, DH)
    bo = p[DH * M + DH + V * DH :]
    opt = torch.optim.Adam([p], lr=a.lr, foreach=False)

    def chunk(src, pos, h):
        """Loss (mean over T*B) of the chunk at pos[b], and the last state."""
        idx = torch.tensor(pos).unsqueeze(0) + torch.arange(T).unsqueeze(1)
        x = F.one_hot(src[idx], V).to(torch.float64)  # T x B x V
        hs = []
        for t in range(T):
            h = torch.tanh(torch.cat([x[t], h], 1) @ W.t() + bh)
            hs.append(h)
        logits = torch.stack(hs).reshape(T * B, DH) @ Wo.t() + bo
        return F.cross_entropy(logits, src[idx + 1].reshape(T * B)), h

    def validate():
        val = ids[ntrain:]
        span = (nval - 1) // B
        h = torch.zeros(B, DH, dtype=torch.float64)
        total = 0.0
        with torch.no_grad():
            for c in range(span // T):
                loss, h = chunk(val, [b * span + c * T for b in range(B)], h)
                total += loss.item()
        return total / (span // T)

    span = (ntrain - 1) // B
    epoch = span // T
    h = torch.zeros(B, DH, dtype=torch.float64)
    run, nrun = 0.0, 0
    for u in range(1, a.n + 1):
        c = (u - 1) % epoch
        if c == 0:
            h = torch.zeros(B, DH, dtype=torch.float64)
        loss, h = chunk(ids, [b * span + c * T for b in range(B)], h)
        h = h.detach()
        opt.zero_grad()
        loss.backward()
        with torch.no_grad():
            norm = torch.sqrt(torch.sum(p.grad * p.grad)).item()
            if norm > CLIP:
                p.grad.mul_(CLIP / norm)
        opt.step()
        E = loss.item()
        if a.print_loss:
            print(f"update {u} loss {E:.17g}")
        run, nrun = run + E, nrun + 1
        if u % a.e == 0 or u == a.n:
            print(f"update {u:5d}  loss {run / nrun:.4f}  val {validate():.4f}")
            sys.stdout.flush()
            run, nrun = 0.0, 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
