/*
 * gated_peer.h — what bptt-bench-gated (gated.c) shares with its oneDNN
 * peer (gated_onednn.c, built when libdnnl is found; a stub otherwise).
 */
#ifndef BPTT_BENCH_GATED_PEER_H
#define BPTT_BENCH_GATED_PEER_H

#include <bptt.h>
#include <stddef.h>

/* Sizes for gated_outs_err: T steps of B sequences. */
typedef struct problem_view {
    size_t din, n, G, T, B;
} problem_view;

/* The largest normwise relative difference of h, dW, dU, dx (dense, in
 * float if single, else double) from the reference r*. */
double gated_outs_err(int single, const problem_view *v, const void *h,
                      const void *dW, const void *dU, const void *dx,
                      const void *rh, const void *rdW, const void *rdU,
                      const void *rdx);

/* The f32 problem as bptt lays it out: W (G·n x din), U (G·n x n), bx, bh
 * (G·n), x ((T·B) x din), dh ((T·B) x n), all dense, h0 = 0; and bptt's
 * naive results over the first Tc steps (h, dW, dU, dx, float). */
typedef struct gated_peer_problem {
    bptt_cell cell;
    size_t din, n, T, B, Tc;
    const float *W, *U, *bx, *bh, *x, *dh;
    const void *rh, *rdW, *rdU, *rdx;
    double budget_ms;
} gated_peer_problem;

typedef struct gated_peer_result {
    int ran;         /* 0: the peer is not available */
    double err;      /* against bptt's naive over the first Tc steps */
    double fwd, bwd; /* medians, ms, at the full T */
} gated_peer_result;

/* 1 if oneDNN is built in. */
int gated_onednn_available(void);

/* Check oneDNN's LSTM or lbr_gru primitive against the naive results over
 * Tc steps, then (if within tolerance) time forward_training and backward
 * at T.  Exits with a message on a oneDNN error. */
void gated_onednn_run(const gated_peer_problem *p, gated_peer_result *r);

#endif
