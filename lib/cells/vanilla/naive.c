/*
 * naive.c — the naive loop form: the element-wise sums of the forward
 * pass and of eqs. (3)-(12) (docs/derivation.md), exactly as written there,
 * with no BLAS.
 * It is the reference every fast path is tested against and the baseline
 * bptt-bench times them against, so it stays simple on purpose.
 */
#include "cells/vanilla/core.h"

void XI(naive_affine)(const bptt_net *net, size_t B, const R *W, size_t ldw,
                      const R *s, int tokens, R *z)
{
    const size_t din = net->din, dout = net->dout, m = net->m;
    for (size_t b = 0; b < B; b++) {
        const R *sb = s + b * m;
        for (size_t i = 0; i < dout; i++) {
            /* z_i(t+1) = Σ_{j<din} W_ij x_j(t) + Σ_{j>=din} W_ij y_j(t);
             * for x(t) = e_k the first sum is W_ik, given in z */
            R acc = tokens ? z[b * dout + i] : 0;
            for (size_t j = 0; j < din && !tokens; j++)
                acc += W[i * ldw + j] * sb[j];
            for (size_t j = din; j < m; j++)
                acc += W[i * ldw + j] * sb[j];
            z[b * dout + i] = acc;
        }
    }
}

void XI(naive_backward)(const bptt_net *net, size_t T, size_t B,
                        const R *W, size_t ldw, const R *dy, size_t lddy,
                        R *dW, size_t lddw, R *db, R *dx, size_t lddx,
                        R *dy0, size_t lddy0, struct X(workspace) *ws)
{
    const size_t din = net->din, dout = net->dout, m = net->m;
    const size_t j0 = ws->fwd_tokens ? din : 0; /* x-columns done apart */
    for (size_t t = T; t >= 1; t--) {
        const size_t k = t - 1; /* row block of step t: y(t), s(t-1) */
        for (size_t b = 0; b < B; b++) {
            const size_t row = k * B + b;
            R *delta = ws->Delta + row * dout;
            const R *next = t < T ? ws->Delta + ((k + 1) * B + b) * dout : NULL;
            for (size_t j = 0; j < dout; j++) {
                /* eq. (3): dL(t)/dy_j(t), given by the caller's loss */
                R g = dy[row * lddy + j];
                /* eq. (7): + Σ_i δ_i(t+1) W_{i, din+j} */
                if (next)
                    for (size_t i = 0; i < dout; i++)
                        g += next[i] * W[i * ldw + din + j];
                delta[j] = g; /* g_j(t), until f' is applied below */
            }
            XI(record_flow)(ws, row, 1, delta, ws->D + row * dout);
            /* eq. (5)/(8): δ_j(t) = g_j f_j'(z_j(t)) */
            for (size_t j = 0; j < dout; j++)
                delta[j] *= ws->D[row * dout + j];
            /* eqs. (9)/(11)/(12): dL/dW_kj += δ_k(t) s_j(t-1) */
            const R *s = ws->S + row * m;
            if (dW)
                for (size_t kk = 0; kk < dout; kk++)
                    for (size_t j = j0; j < m; j++)
                        dW[kk * lddw + j] += delta[kk] * s[j];
            /* x(t-1) = e_k: of the x-columns only column k gets δ(t),
             * eq. (T2) */
            if (dW && j0)
                XI(tokens_scatter)(ws, row, 1, 0, dout, dW, lddw);
            if (db)
                for (size_t kk = 0; kk < dout; kk++)
                    db[kk] += delta[kk];
            /* dL/dx_j(t-1) = Σ_i δ_i(t) W_ij (eq. (6)'s twin on x) */
            if (dx)
                for (size_t j = 0; j < din; j++) {
                    R acc = 0;
                    for (size_t i = 0; i < dout; i++)
                        acc += delta[i] * W[i * ldw + j];
                    dx[row * lddx + j] += acc;
                }
            /* dL/dy_j(0) = Σ_i δ_i(1) W_{i, din+j} (eq. (7) at t = 0) */
            if (dy0 && t == 1)
                for (size_t j = 0; j < dout; j++) {
                    R acc = 0;
                    for (size_t i = 0; i < dout; i++)
                        acc += delta[i] * W[i * ldw + din + j];
                    dy0[b * lddy0 + j] += acc;
                }
        }
    }
}
