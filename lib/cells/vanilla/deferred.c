/*
 * deferred.c — the deferred algorithm (docs/derivation.md, "Deferring the
 * weight gradient"): everything that does not depend on the previous step
 * is taken out of the time loop and done as one GEMM over all T·B rows.
 *
 *   forward:  Z = X Wxᵀ (+ b) for all steps (one GEMM), then per step only
 *             z(t+1) += Wy y(t) and the activation;
 *   backward: per step only g(t) = dL/dy(t) + Wyᵀ δ(t+1) and δ = g ⊙ f'
 *             (eqs. (3)+(7), (5)/(8)), keeping every δ(t) in Δ; then
 *             dL/dW = Δᵀ S (eq. (12), one GEMM, compute-bound instead of T
 *             memory-bound GERs) and dL/dx = Δ Wx (one GEMM).
 *
 * Forward and backward sit side by side; network.c checks the arguments,
 * stages s(t) and dispatches here.
 */
#include <string.h>

#include "cells/vanilla/core.h"

void XI(deferred_forward)(const bptt_net *net, size_t T, size_t B,
                          const R *W, size_t ldw, const R *b, const R *x,
                          size_t ldx, R *y, size_t ldy, X(workspace) *ws)
{
    const size_t din = net->din, dout = net->dout, m = net->m, TB = T * B;
    const int n = (int)dout, ib = (int)B;
    R *Z = ws->D; /* z(t+1) for all t, replaced by f'(z(t+1)) step by step */

    /* Z = X Wxᵀ: the input half of eq. (6)'s sum for every step at once */
    CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasTrans, (int)TB, n, (int)din,
                1, x, (int)ldx, W, (int)ldw, 0, Z, n);
    if (b)
        for (size_t k = 0; k < TB; k++)
            for (size_t i = 0; i < dout; i++)
                Z[k * dout + i] += b[i];

    /* Only the time loop is capped (threads.c); the GEMM above is not. */
    int saved = bptt__threads_cap(B, dout);
    for (size_t t = 0; t < T; t++) {
        R *z = Z + t * B * dout;
        const R *yprev = ws->S + t * B * m + din; /* y(t), rows of ld m */
        /* z(t+1) += Wy y(t) — the only sequential product */
        if (B == 1)
            CBLAS(gemv)(CblasRowMajor, CblasNoTrans, n, n, 1, W + din,
                        (int)ldw, yprev, 1, 1, z, 1);
        else
            CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasTrans, ib, n, n, 1,
                        yprev, (int)m, W + din, (int)ldw, 1, z, n);
        R *yt = y + t * B * ldy;
        XI(activate)(net, B, z, yt, ldy);
        if (t + 1 < T)
            for (size_t bb = 0; bb < B; bb++)
                memcpy(ws->S + ((t + 1) * B + bb) * m + din, yt + bb * ldy,
                       dout * sizeof(R));
    }
    bptt__threads_restore(saved);
}

void XI(deferred_backward)(const bptt_net *net, size_t T, size_t B,
                           const R *W, size_t ldw, const R *dy, size_t lddy,
                           R beta, R *dW, size_t lddw, R *db, R *dx,
                           size_t lddx, R *dy0, size_t lddy0,
                           X(workspace) *ws)
{
    const size_t din = net->din, dout = net->dout, m = net->m, TB = T * B;
    const int n = (int)dout, ib = (int)B;
    const R *Wy = W + din;
    R *Delta = ws->Delta;

    int saved = bptt__threads_cap(B, dout);
    for (size_t t = T; t >= 1; t--)
        XI(delta_step)(net, t, T, B, W, ldw, dy, lddy, ws);
    bptt__threads_restore(saved);

    /* dL/dW = β dW + Δᵀ S: eq. (12)'s sum over t (and b) as one GEMM */
    if (dW)
        CBLAS(gemm)(CblasRowMajor, CblasTrans, CblasNoTrans, n, (int)m,
                    (int)TB, 1, Delta, n, ws->S, (int)m, beta, dW, (int)lddw);
    /* dL/dx = β dx + Δ Wx: every step's input gradient as one GEMM */
    if (dx)
        CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)TB,
                    (int)din, n, 1, Delta, n, W, (int)ldw, beta, dx,
                    (int)lddx);
    if (db) {
        XI(scale)(1, dout, beta, db, dout);
        for (size_t k = 0; k < TB; k++)
            for (size_t i = 0; i < dout; i++)
                db[i] += Delta[k * dout + i];
    }
    /* dL/dy(0) = β dy0 + Wyᵀ δ(1) */
    if (dy0)
        CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, ib, n, n, 1,
                    Delta, n, Wy, (int)ldw, beta, dy0, (int)lddy0);
}
