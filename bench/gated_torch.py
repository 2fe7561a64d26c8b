#!/usr/bin/env python3
"""gated_torch.py: bptt-bench-gated's PyTorch peer, torch.nn.LSTM / nn.GRU.

    usage: gated_torch.py INPUT OUTPUT

INPUT holds one text line "cell din n T B Tc single budget_ms", then
float64 arrays: W (G*n x din), U (G*n x n), bx, bh (G*n), x ((T*B) x din),
dh ((T*B) x n), and bptt's naive results over the first Tc steps: h
((Tc*B) x n), dW, dU, dx ((Tc*B) x din).  bptt's W, U, bx, bh are exactly
PyTorch's weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 (same gate
order: i, f, g, o and r, z, n), so nothing is reordered.  The loss is
sum(h * dh), whose gradient with respect to h is dh.

The check runs over the first Tc steps against bptt's naive results; the
timing at T, one thread, forward (training) and backward separately,
medians within the budget.  OUTPUT gets one line: "err fwd_ms bwd_ms".
"""
import sys
import time

import numpy as np
import torch


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    with open(sys.argv[1], "rb") as f:
        head = f.readline().split()
        cell = head[0].decode()
        din, n, T, B, Tc, single = (int(v) for v in head[1:7])
        budget = float(head[7])
        G = 4 if cell == "lstm" else 3

        def arr(*shape):
            k = int(np.prod(shape))
            return np.frombuffer(f.read(8 * k), dtype=np.float64).reshape(shape).copy()

        W, U = arr(G * n, din), arr(G * n, n)
        bx, bh = arr(G * n), arr(G * n)
        x, dh = arr(T, B, din), arr(T, B, n)
        rh, rdW, rdU, rdx = arr(Tc, B, n), arr(G * n, din), arr(G * n, n), \
            arr(Tc, B, din)
    dtype = torch.float32 if single else torch.float64
    mod = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(din, n)
    mod = mod.to(dtype)
    with torch.no_grad():
        mod.weight_ih_l0.copy_(torch.from_numpy(W))
        mod.weight_hh_l0.copy_(torch.from_numpy(U))
        mod.bias_ih_l0.copy_(torch.from_numpy(bx))
        mod.bias_hh_l0.copy_(torch.from_numpy(bh))
    X = torch.tensor(x, dtype=dtype)
    DH = torch.tensor(dh, dtype=dtype)

    def step(steps):
        mod.zero_grad(set_to_none=True)
        xin = X[:steps].clone().requires_grad_(True)
        t0 = time.perf_counter()
        h, _ = mod(xin)
        t1 = time.perf_counter()
        (h * DH[:steps]).sum().backward()
        t2 = time.perf_counter()
        return h, xin, (t1 - t0) * 1e3, (t2 - t1) * 1e3

    def rel(a, ref):
        a = a.detach().double().numpy()
        return float(np.max(np.abs(a - ref)) / max(np.max(np.abs(ref)), 1e-300))

    h, xin, _, _ = step(Tc)
    err = max(rel(h, rh), rel(mod.weight_ih_l0.grad, rdW),
              rel(mod.weight_hh_l0.grad, rdU), rel(xin.grad, rdx))
    tf, tb, spent = [], [], 0.0
    if err <= (1e-3 if single else 1e-10):
        step(T)  # warm-up
        while len(tf) < 64 and (len(tf) < 3 or spent < budget):
            _, _, a, b = step(T)
            tf.append(a)
            tb.append(b)
            spent += a + b
    with open(sys.argv[2], "w") as f:
        f.write("%.3e %.6f %.6f\n" % (err, float(np.median(tf)) if tf else -1,
                                      float(np.median(tb)) if tb else -1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
