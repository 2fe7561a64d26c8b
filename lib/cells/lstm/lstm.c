/*
 * lstm/lstm.c — the LSTM cell's forward and backward in deferred matrix
 * form (docs/gated.md, "The LSTM" and "Matrix form"): everything that does
 * not depend on the previous step is one GEMM over all T·B rows.
 *
 *   forward:  A = X Wᵀ + bx + bh for all steps and gates (G6, one GEMM);
 *             per step only A(t) += h(t) Uᵀ (G1) and the gates (G2)-(G5);
 *   backward: per step only g(t) = dL/dh(t) + Uᵀ δ(t+1) (G7) and the gate
 *             deltas (G8)-(G10), kept in D; then dW = Dᵀ X, dU = Dᵀ H and
 *             dx = D W as one GEMM each (G20).
 *
 * The time loops run on the recurrence kernel (kernels/recurrence.h) on the
 * workspace's threads.  A thread owns a range of units and all four gates
 * of them: forward packs the four blocks of Uᵀ separately (panel q of
 * block k holds gate k's columns of units q·nr..), so a thread computes
 * every gate of its units and applies (G2)-(G5) without waiting for the
 * others; backward packs U whole (its columns are the units).  One barrier
 * per step: h(t+1), resp. δ(t), complete.
 */
#include <string.h>

#include "cells/gated/gated.h"

enum { G = 4 };

typedef struct loop {
    const XI(rec_kernel) *kernel;
    size_t T, B;
    const R *U;
    size_t ldu;
    R *h;        /* forward: the caller's h */
    size_t ldh;
    const R *dh; /* backward: the caller's dL/dh and dL/dc(T) */
    size_t lddh;
    const R *dcT;
    size_t lddcT;
    XI(gws) *ws;
} loop;

/* Forward's time loop on one thread's units c0..c1. */
static void forward_loop(void *arg, int tid, int nth)
{
    const loop *L = arg;
    XI(gws) *ws = L->ws;
    const size_t n = ws->n, Gn = G * n, B = L->B, nr = L->kernel->nr;
    const size_t blk = XI(rec_panels)(n, nr) * n * nr; /* one gate's panels */
    size_t q0, q1, c0, c1;
    XI(rec_share)(n, nr, tid, nth, &q0, &q1, &c0, &c1);
    for (size_t k = 0; k < G; k++) /* P_k = U_kᵀ, gate k's rows of U */
        XI(rec_pack)(1, n, n, L->U + k * n * L->ldu, L->ldu, nr, q0, q1,
                     ws->P + k * blk);
    for (size_t t = 0; t < L->T; t++) {
        R *At = ws->A + t * B * Gn;
        const R *hp = ws->H + t * B * n;          /* h(t) */
        const R *cp = ws->C + t * B * n;          /* c(t) */
        R *hn = ws->H + (t + 1) * B * n, *cn = ws->C + (t + 1) * B * n;
        R *tc = ws->Y + t * B * n;
        /* (G1): the recurrent half of every gate's sum, U h(t) */
        for (size_t k = 0; k < G; k++)
            L->kernel->run(B, n, n, q0, q1, hp, n, 1, ws->P + k * blk,
                           At + k * n, Gn);
        const size_t w = c1 - c0;
        for (size_t b = 0; b < B; b++) {
            R *a = At + b * Gn;
            R *hout = L->h + (t * B + b) * L->ldh;
            XI(gate_sigm)(w, a + c0);                         /* (G2): i, f */
            XI(gate_sigm)(w, a + n + c0);
            XI(gate_tanh)(w, a + 2 * n + c0, a + 2 * n + c0); /* (G3): g */
            XI(gate_sigm)(w, a + 3 * n + c0);                 /* (G2): o */
            for (size_t j = c0; j < c1; j++)                  /* (G4) */
                cn[b * n + j] = a[n + j] * cp[b * n + j] + a[j] * a[2 * n + j];
            XI(gate_tanh)(w, cn + b * n + c0, tc + b * n + c0);
            for (size_t j = c0; j < c1; j++) {                /* (G5) */
                const R hv = a[3 * n + j] * tc[b * n + j];
                hn[b * n + j] = hv;
                hout[j] = hv;
            }
        }
        if (t + 1 < L->T)
            bptt__pool_barrier(ws->pool, nth); /* h(t+1) complete */
    }
}

void XI(lstm_forward)(size_t T, size_t B, const R *W, size_t ldw, const R *U,
                      size_t ldu, const R *bx, const R *bh, R *h, size_t ldh,
                      XI(gws) *ws)
{
    const size_t din = ws->din, Gn = G * ws->n, TB = T * B;
    /* A = X Wᵀ (+ bx + bh): (G1)'s input half for every step at once (G6) */
    XI(gemm)(0, 1, TB, Gn, din, ws->Xs, din, W, ldw, 0, ws->A, Gn, ws->pool,
             ws->Gs);
    if (bx || bh)
        for (size_t k = 0; k < TB; k++)
            for (size_t r = 0; r < Gn; r++)
                ws->A[k * Gn + r] += (bx ? bx[r] : 0) + (bh ? bh[r] : 0);
    const XI(rec_kernel) *kernel = XI(rec_kernel_get)();
    loop L = {.kernel = kernel, .T = T, .B = B, .U = U, .ldu = ldu, .h = h,
              .ldh = ldh, .ws = ws};
    bptt__pool_run(ws->pool, XI(gated_threads)(ws, B, kernel->nr),
                   forward_loop, &L);
}

/* One row's gate deltas (G8)-(G10) for w units from the gates a (ld n
 * between gate blocks), tanh c(t) th, c(t-1) cp and g(t) gh, into d
 * (blocks n apart) and the carried dL/dc, dcc, in place.  Its own function
 * with restrict pointers so that the compiler vectorizes it: the same
 * operations per unit, so the same values as one unit at a time. */
static void deltas(size_t w, size_t n, const R *restrict a,
                   const R *restrict th, const R *restrict cp,
                   const R *restrict gh, R *restrict dcc, R *restrict d)
{
    for (size_t j = 0; j < w; j++) {
        const R i = a[j], f = a[n + j], g = a[2 * n + j], o = a[3 * n + j];
        const R tcv = th[j];
        const R dc = dcc[j] + gh[j] * o * (1 - tcv * tcv); /* (G8) */
        d[j] = dc * g * i * (1 - i);                        /* (G9) */
        d[n + j] = dc * cp[j] * f * (1 - f);
        d[2 * n + j] = dc * i * (1 - g * g);
        d[3 * n + j] = gh[j] * tcv * o * (1 - o);           /* (G10) */
        dcc[j] = dc * f;
    }
}

/* Backward's time loop on one thread's units c0..c1, t = T .. 1. */
static void backward_loop(void *arg, int tid, int nth)
{
    const loop *L = arg;
    XI(gws) *ws = L->ws;
    const size_t n = ws->n, Gn = G * n, B = L->B, nr = L->kernel->nr;
    size_t q0, q1, c0, c1;
    XI(rec_share)(n, nr, tid, nth, &q0, &q1, &c0, &c1);
    XI(rec_pack)(0, Gn, n, L->U, L->ldu, nr, q0, q1, ws->P); /* P = U */
    R *gc = ws->Gc, *dcc = ws->Cc; /* g(t); dL/dc carried down (G9) */
    for (size_t b = 0; b < B; b++)
        for (size_t j = c0; j < c1; j++)
            dcc[b * n + j] = L->dcT ? L->dcT[b * L->lddcT + j] : 0;
    for (size_t t = L->T; t >= 1; t--) {
        const size_t k = (t - 1) * B; /* first row of step t */
        /* g(t) = dL/dh(t) + Uᵀ δ(t+1) (G7), then (G8)-(G10), ROWS_AT_ONCE
         * rows at a time as in gru/gru.c */
        for (size_t b0 = 0; b0 < B; b0 += ROWS_AT_ONCE) {
            const size_t b1 = B - b0 < ROWS_AT_ONCE ? B : b0 + ROWS_AT_ONCE;
            for (size_t b = b0; b < b1; b++)
                memcpy(gc + b * n + c0, L->dh + (k + b) * L->lddh + c0,
                       (c1 - c0) * sizeof(R));
            XI(gated_add_recurrent)(L->kernel, ws, t, L->T, B, b0, b1, q0,
                                    q1, gc);
            for (size_t b = b0; b < b1; b++) {
                const size_t row = (k + b) * n + c0;
                R *d = ws->D + (k + b) * Gn;
                deltas(c1 - c0, n, ws->A + (k + b) * Gn + c0, ws->Y + row,
                       ws->C + row, gc + b * n + c0, dcc + b * n + c0,
                       d + c0);
                if (nth == 1) /* ‖ḡ(t)‖, ‖δ(t)‖ if asked */
                    XI(gated_record)(ws, k + b, gc + b * n, d);
            }
        }
        if (t == 1)
            break;
        bptt__pool_barrier(ws->pool, nth); /* δ(t) complete */
    }
}

void XI(lstm_backward)(size_t T, size_t B, const R *W, size_t ldw,
                       const R *U, size_t ldu, const R *dh, size_t lddh,
                       const R *dcT, size_t lddcT, R beta, R *dW, size_t lddw,
                       R *dU, size_t lddu, R *dbx, R *dbh, R *dx, size_t lddx,
                       R *dh0, size_t lddh0, R *dc0, size_t lddc0,
                       XI(gws) *ws)
{
    const size_t din = ws->din, n = ws->n, Gn = G * n, TB = T * B;
    const XI(rec_kernel) *kernel = XI(rec_kernel_get)();
    loop L = {.kernel = kernel, .T = T, .B = B, .U = U, .ldu = ldu, .dh = dh,
              .lddh = lddh, .dcT = dcT, .lddcT = lddcT, .ws = ws};
    /* one thread while the error flow is recorded: whole rows of ḡ */
    const int nth = ws->flow_g || ws->flow_d
                        ? 1 : XI(gated_threads)(ws, B, kernel->nr);
    bptt__pool_run(ws->pool, nth, backward_loop, &L);

    const R *D = ws->D;
    /* (G20): dW = β dW + Dᵀ X, dU = β dU + Dᵀ H(0..T-1), dx = β dx + D W */
    if (dW)
        XI(gemm)(1, 0, Gn, din, TB, D, Gn, ws->Xs, din, beta, dW, lddw,
                 ws->pool, ws->Gs);
    if (dU)
        XI(gemm)(1, 0, Gn, n, TB, D, Gn, ws->H, n, beta, dU, lddu, ws->pool,
                 ws->Gs);
    if (dx)
        XI(gemm)(0, 0, TB, din, Gn, D, Gn, W, ldw, beta, dx, lddx, ws->pool,
                 ws->Gs);
    /* both biases enter (G1) the same way */
    XI(gated_bias_sums)(TB, Gn, Gn, D, Gn, beta, dbx, dbh);
    /* dL/dh(0) = Uᵀ δ(1) ((G7) at t = 0), dL/dc(0) the carry (G9) */
    if (dh0)
        XI(gemm)(0, 0, B, n, Gn, D, Gn, U, ldu, beta, dh0, lddh0, ws->pool,
                 ws->Gs);
    if (dc0)
        for (size_t b = 0; b < B; b++)
            for (size_t j = 0; j < n; j++) {
                R *o = dc0 + b * lddc0 + j;
                *o = (beta == 0 ? 0 : beta * *o) + ws->Cc[b * n + j];
            }
}
