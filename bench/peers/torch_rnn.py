#!/usr/bin/env python3
"""torch_rnn.py -- the PyTorch peer of bptt-bench.

    usage: python3 torch_rnn.py INPUT OUTPUT

Network A with tanh units is exactly torch.nn.RNN(din, dout,
nonlinearity='tanh', bias=False) with weight_ih_l0 = Wx and weight_hh_l0 =
Wy (both in our [unit][input] order), time-major (T, B, din) input and a
zero initial state.  The gated cells of bptt/gated.h (cell 1, 2) are
exactly torch.nn.LSTM and torch.nn.GRU: bptt's W, U, bx, bh are
weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 (same gate order, i, f,
g, o and r, z, n; the GRU's linear-before-reset candidate), so nothing is
reordered; zero initial states (h0 and the LSTM's c0).  One repetition is y = rnn(x)[0] (autograd recording,
as in training) then y.backward(dy), giving dL/dWx, dL/dWy and dL/dx (x
requires grad).  The file format is protocol.h's; float32 and float64.

Gradients are reset to None before each repetition, outside the timed
region, so that backward hands its fresh gradients over without an extra
accumulation (PyTorch's own zero_grad(set_to_none=True)).  Exit status 3
(unsupported) if torch or numpy cannot be imported.
"""
import struct
import sys
import time

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNSUPPORTED = 0, 1, 2, 3
IN_HEAD = struct.Struct("=8sIIII4QdIIQ")   # protocol.h, input: 80 bytes
OUT_HEAD = struct.Struct("=8sIIII4QQ64s")  # output: 128 bytes
VERSION = 2
GATES = {0: 1, 1: 4, 2: 3}  # vanilla, lstm, gru


def fail(msg, code=EXIT_FAILED):
    print("torch: " + msg, file=sys.stderr)
    sys.exit(code)


def main(argv):
    if len(argv) != 3:
        print("usage: %s INPUT OUTPUT" % argv[0], file=sys.stderr)
        return EXIT_USAGE
    try:
        import numpy as np
        import torch
    except ImportError as e:
        fail("cannot import: %s" % e, EXIT_UNSUPPORTED)

    with open(argv[1], "rb") as f:
        raw = f.read(IN_HEAD.size)
        if len(raw) != IN_HEAD.size:
            fail("truncated header")
        (magic, version, prec, cell, _, din, dout, T, B, budget_ms, threads,
         warmup, cap) = IN_HEAD.unpack(raw)
        if magic != b"BPTTPEER" or version != VERSION:
            fail("not a version %d peer input file" % VERSION)
        if prec not in (4, 8) or cell not in GATES or \
                min(din, dout, T, B, cap) < 1:
            fail("bad header")
        npdt = np.float32 if prec == 4 else np.float64
        m = din + dout
        G = GATES[cell]

        def arr(rows, cols):
            a = np.fromfile(f, dtype=npdt, count=rows * cols)
            if a.size != rows * cols:
                fail("truncated arrays")
            return a.reshape(rows, cols)

        W = arr(G * dout, m)
        bias = arr(2, G * dout) if cell else None
        x = arr(T * B, din)
        dy = arr(T * B, dout)

    torch.set_num_threads(max(int(threads), 1))
    tdt = torch.float32 if prec == 4 else torch.float64
    if cell == 0:
        rnn = torch.nn.RNN(din, dout, num_layers=1, nonlinearity="tanh",
                           bias=False, batch_first=False)
    else:
        rnn = (torch.nn.LSTM if cell == 1 else torch.nn.GRU)(
            din, dout, num_layers=1, bias=True, batch_first=False)
    rnn = rnn.to(tdt)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(W[:, :din])))
        rnn.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(W[:, din:])))
        if cell:
            rnn.bias_ih_l0.copy_(torch.from_numpy(bias[0].copy()))
            rnn.bias_hh_l0.copy_(torch.from_numpy(bias[1].copy()))
    xt = torch.from_numpy(x.reshape(T, B, din).copy()).requires_grad_(True)
    dyt = torch.from_numpy(dy.reshape(T, B, dout).copy())
    h0 = torch.zeros(1, B, dout, dtype=tdt)
    if cell == 1:
        h0 = (h0, torch.zeros(1, B, dout, dtype=tdt))
    params = tuple(rnn.parameters()) + (xt,)

    tf, tb, tfb = [], [], []
    spent = 0.0
    r = 0
    clock = time.perf_counter
    while len(tfb) < cap:
        for p in params:
            p.grad = None
        t0 = clock()
        y = rnn(xt, h0)[0]
        t1 = clock()
        y.backward(dyt)
        t2 = clock()
        r += 1
        if r <= warmup:
            continue
        tf.append((t1 - t0) * 1e3)
        tb.append((t2 - t1) * 1e3)
        tfb.append((t2 - t0) * 1e3)
        spent += tfb[-1]
        # as bench/timing.h: 5 samples while they fit in 10 budgets
        if spent >= budget_ms and (len(tfb) >= 5 or spent >= 10 * budget_ms):
            break

    yv = y.detach().numpy().reshape(T * B, dout)
    dW = np.concatenate([rnn.weight_ih_l0.grad.numpy(),
                         rnn.weight_hh_l0.grad.numpy()], axis=1)
    dx = xt.grad.numpy().reshape(T * B, din)
    reps = len(tfb)
    name = ("PyTorch " + torch.__version__).encode()[:63]
    summary = []
    for s in (tf, tb, tfb):
        summary += [float(np.median(s)), min(s), max(s)]
    with open(argv[2], "wb") as f:
        f.write(OUT_HEAD.pack(b"BPTTPOUT", VERSION, prec, cell, 0, din, dout,
                              T, B, reps, name))
        for a in (yv, dW, dx):
            f.write(np.ascontiguousarray(a, dtype=npdt).tobytes())
        f.write(np.array(summary + tf + tb + tfb, dtype=np.float64).tobytes())
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv))
