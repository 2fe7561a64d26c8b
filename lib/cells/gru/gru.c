/*
 * gru/gru.c — the GRU cell (PyTorch nn.GRU, oneDNN lbr_gru) forward and
 * backward in deferred matrix form (docs/gated.md, "The GRU" and "Matrix
 * form"):
 *
 *   forward:  A = X Wᵀ + bx for all steps and gates (one GEMM), with bh's
 *             r and z blocks; per step only U h(t): its r and z blocks are
 *             added to A(t), its n block plus bh_n is kept in Y (the reset
 *             gate multiplies it, (G13)); then (G11)-(G14);
 *   backward: per step only g(t) (G15) and the deltas (G16)-(G18), the
 *             recurrent-side ones in D, the n gate's input-side one in DN;
 *             then dW, dU and dx as one GEMM each (dx as two: the n
 *             block's input-side delta differs, (G20)).
 *
 * Threads share the units as in lstm/lstm.c: each packs the three blocks
 * of Uᵀ (forward) or U (backward) for its units; one barrier per step.
 */
#include <string.h>

#include "cells/gated/gated.h"

enum { G = 3 };

typedef struct loop {
    const XI(rec_kernel) *kernel;
    size_t T, B;
    const R *U;
    size_t ldu;
    const R *bh;
    R *h;
    size_t ldh;
    const R *dh;
    size_t lddh;
    XI(gws) *ws;
} loop;

static void forward_loop(void *arg, int tid, int nth)
{
    const loop *L = arg;
    XI(gws) *ws = L->ws;
    const size_t n = ws->n, Gn = G * n, B = L->B, nr = L->kernel->nr;
    const size_t blk = XI(rec_panels)(n, nr) * n * nr;
    size_t q0, q1, c0, c1;
    XI(rec_share)(n, nr, tid, nth, &q0, &q1, &c0, &c1);
    for (size_t k = 0; k < G; k++)
        XI(rec_pack)(1, n, n, L->U + k * n * L->ldu, L->ldu, nr, q0, q1,
                     ws->P + k * blk);
    const R *bhn = L->bh ? L->bh + 2 * n : NULL;
    for (size_t t = 0; t < L->T; t++) {
        R *At = ws->A + t * B * Gn, *Yt = ws->Y + t * B * n;
        const R *hp = ws->H + t * B * n;
        R *hn = ws->H + (t + 1) * B * n;
        for (size_t b = 0; b < B; b++) /* U_n h(t) + bh_n starts at bh_n */
            for (size_t j = c0; j < c1; j++)
                Yt[b * n + j] = bhn ? bhn[j] : 0;
        for (size_t k = 0; k < 2; k++) /* (G11), (G12): U_r h, U_z h */
            L->kernel->run(B, n, n, q0, q1, hp, n, 1, ws->P + k * blk,
                           At + k * n, Gn);
        L->kernel->run(B, n, n, q0, q1, hp, n, 1, ws->P + 2 * blk, Yt, n);
        const size_t w = c1 - c0;
        for (size_t b = 0; b < B; b++) {
            R *a = At + b * Gn;
            R *hout = L->h + (t * B + b) * L->ldh;
            XI(gate_sigm)(w, a + c0); /* (G11), (G12): r, z */
            XI(gate_sigm)(w, a + n + c0);
            for (size_t j = c0; j < c1; j++) /* (G13)'s argument */
                a[2 * n + j] += a[j] * Yt[b * n + j];
            XI(gate_tanh)(w, a + 2 * n + c0, a + 2 * n + c0);
            for (size_t j = c0; j < c1; j++) { /* (G14) */
                const R z = a[n + j];
                const R hv = (1 - z) * a[2 * n + j] + z * hp[b * n + j];
                hn[b * n + j] = hv;
                hout[j] = hv;
            }
        }
        if (t + 1 < L->T)
            bptt__pool_barrier(ws->pool, nth); /* h(t+1) complete */
    }
}

void XI(gru_forward)(size_t T, size_t B, const R *W, size_t ldw, const R *U,
                     size_t ldu, const R *bx, const R *bh, R *h, size_t ldh,
                     XI(gws) *ws)
{
    const size_t din = ws->din, n = ws->n, Gn = G * n, TB = T * B;
    /* A = X Wᵀ + bx (+ bh_r, bh_z): every gate's input half at once */
    XI(gemm)(0, 1, TB, Gn, din, ws->Xs, din, W, ldw, 0, ws->A, Gn, ws->pool,
             ws->Gs);
    if (bx || bh)
        for (size_t k = 0; k < TB; k++)
            for (size_t r = 0; r < Gn; r++)
                ws->A[k * Gn + r] +=
                    (bx ? bx[r] : 0) + (bh && r < 2 * n ? bh[r] : 0);
    const XI(rec_kernel) *kernel = XI(rec_kernel_get)();
    loop L = {.kernel = kernel, .T = T, .B = B, .U = U, .ldu = ldu, .bh = bh,
              .h = h, .ldh = ldh, .ws = ws};
    bptt__pool_run(ws->pool, XI(gated_threads)(ws, B, kernel->nr),
                   forward_loop, &L);
}

/* One row's deltas (G16)-(G19) for w units from the gates a (ld n between
 * gate blocks), U_n h(t-1) + bh_n yn, h(t-1) hp and g(t) g, into d
 * (blocks n apart), dn and z ⊙ g, zc.  Its own function with restrict
 * pointers so that the compiler vectorizes it: the same operations per
 * unit, so the same values as one unit at a time. */
static void deltas(size_t w, size_t n, const R *restrict a,
                   const R *restrict yn, const R *restrict hp,
                   const R *restrict g, R *restrict zc, R *restrict d,
                   R *restrict dn)
{
    for (size_t j = 0; j < w; j++) {
        const R r = a[j], z = a[n + j], nn = a[2 * n + j];
        const R dnx = g[j] * (1 - z) * (1 - nn * nn);       /* (G16) */
        d[n + j] = g[j] * (hp[j] - nn) * z * (1 - z);
        d[2 * n + j] = dnx * r;                              /* (G17) */
        d[j] = dnx * yn[j] * r * (1 - r);                    /* (G18) */
        dn[j] = dnx;
        zc[j] = g[j] * z;                                    /* (G19) */
    }
}

static void backward_loop(void *arg, int tid, int nth)
{
    const loop *L = arg;
    XI(gws) *ws = L->ws;
    const size_t n = ws->n, Gn = G * n, B = L->B, nr = L->kernel->nr;
    size_t q0, q1, c0, c1;
    XI(rec_share)(n, nr, tid, nth, &q0, &q1, &c0, &c1);
    XI(rec_pack)(0, Gn, n, L->U, L->ldu, nr, q0, q1, ws->P); /* P = U */
    R *gc = ws->Gc, *zc = ws->Cc; /* g(t); z(t+1) ⊙ g(t+1) carried down */
    for (size_t b = 0; b < B; b++)
        for (size_t j = c0; j < c1; j++)
            zc[b * n + j] = 0;
    for (size_t t = L->T; t >= 1; t--) {
        const size_t k = (t - 1) * B;
        /* (G15): g(t) = dL/dh(t) + z(t+1) ⊙ g(t+1) + Uᵀ δh(t+1), then
         * (G16)-(G19), ROWS_AT_ONCE rows at a time: a row's deltas need
         * only its own g(t), and their operands, read from memory
         * between the rows' products (which keep the core busy), cost
         * less than in one pass after the whole step's product.  Each
         * row's sum is the kernel's same chain whatever rows a call
         * takes (kernels/recurrence.h). */
        for (size_t b0 = 0; b0 < B; b0 += ROWS_AT_ONCE) {
            const size_t b1 = B - b0 < ROWS_AT_ONCE ? B : b0 + ROWS_AT_ONCE;
            for (size_t b = b0; b < b1; b++)
                for (size_t j = c0; j < c1; j++)
                    gc[b * n + j] =
                        L->dh[(k + b) * L->lddh + j] + zc[b * n + j];
            XI(gated_add_recurrent)(L->kernel, ws, t, L->T, B, b0, b1, q0,
                                    q1, gc);
            for (size_t b = b0; b < b1; b++) {
                const size_t row = (k + b) * n + c0;
                R *d = ws->D + (k + b) * Gn;
                deltas(c1 - c0, n, ws->A + (k + b) * Gn + c0, ws->Y + row,
                       ws->H + row, gc + b * n + c0, zc + b * n + c0, d + c0,
                       ws->DN + row);
                if (nth == 1) /* ‖ḡ(t)‖, ‖δh(t)‖ if asked */
                    XI(gated_record)(ws, k + b, gc + b * n, d);
            }
        }
        if (t == 1)
            break;
        bptt__pool_barrier(ws->pool, nth); /* δ(t) complete */
    }
}

void XI(gru_backward)(size_t T, size_t B, const R *W, size_t ldw, const R *U,
                      size_t ldu, const R *dh, size_t lddh, R beta, R *dW,
                      size_t lddw, R *dU, size_t lddu, R *dbx, R *dbh, R *dx,
                      size_t lddx, R *dh0, size_t lddh0, XI(gws) *ws)
{
    const size_t din = ws->din, n = ws->n, Gn = G * n, TB = T * B;
    const XI(rec_kernel) *kernel = XI(rec_kernel_get)();
    loop L = {.kernel = kernel, .T = T, .B = B, .U = U, .ldu = ldu, .dh = dh,
              .lddh = lddh, .ws = ws};
    /* one thread while the error flow is recorded: whole rows of ḡ */
    const int nth = ws->flow_g || ws->flow_d
                        ? 1 : XI(gated_threads)(ws, B, kernel->nr);
    bptt__pool_run(ws->pool, nth, backward_loop, &L);

    const R *D = ws->D, *DN = ws->DN;
    /* (G20): the input side takes δ_r, δ_z from D and δx_n from DN; dW
     * as one product over the two, which packs x once */
    if (dW)
        XI(gemm_split)(2 * n, Gn, din, TB, D, Gn, DN, n, ws->Xs, din, beta,
                       dW, lddw, ws->pool, ws->Gs);
    if (dU)
        XI(gemm)(1, 0, Gn, n, TB, D, Gn, ws->H, n, beta, dU, lddu, ws->pool,
                 ws->Gs);
    if (dx) {
        XI(gemm)(0, 0, TB, din, 2 * n, D, Gn, W, ldw, beta, dx, lddx,
                 ws->pool, ws->Gs);
        XI(gemm)(0, 0, TB, din, n, DN, n, W + 2 * n * ldw, ldw, 1, dx, lddx,
                 ws->pool, ws->Gs);
    }
    /* dbh sums D, dbx D's r and z blocks and DN (G20): D in one pass */
    XI(gated_bias_sums)(TB, 2 * n, Gn, D, Gn, beta, dbx, dbh);
    XI(gated_bias_sums)(TB, n, n, DN, n, beta, dbx ? dbx + 2 * n : NULL,
                        NULL);
    /* (G19) at t = 0: dL/dh(0) = z(1) ⊙ g(1) + Uᵀ δh(1) */
    if (dh0) {
        XI(gemm)(0, 0, B, n, Gn, D, Gn, U, ldu, beta, dh0, lddh0, ws->pool,
                 ws->Gs);
        for (size_t b = 0; b < B; b++)
            for (size_t j = 0; j < n; j++)
                dh0[b * lddh0 + j] += ws->Cc[b * n + j];
    }
}
