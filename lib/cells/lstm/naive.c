/*
 * lstm/naive.c — the LSTM's naive loop form: the element-wise sums of
 * docs/gated.md (G1)-(G10) exactly as written there, one step, one
 * sequence and one unit at a time, no BLAS.  It is the reference the
 * deferred form (lstm.c) is tested against, so it stays simple on purpose.
 * It fills the same workspace arrays as the deferred forward, so that
 * either backward may follow either forward.
 */
#include "cells/gated/gated.h"

enum { G = 4 };

void XI(lstm_naive_forward)(size_t T, size_t B, const R *W, size_t ldw,
                            const R *U, size_t ldu, const R *bx, const R *bh,
                            R *h, size_t ldh, XI(gws) *ws)
{
    const size_t din = ws->din, n = ws->n, Gn = G * n;
    for (size_t t = 0; t < T; t++)
        for (size_t b = 0; b < B; b++) {
            const size_t row = t * B + b;
            const R *xt = ws->Xs + row * din;
            const R *hp = ws->H + row * n, *cp = ws->C + row * n;
            R *a = ws->A + row * Gn;
            /* (G1): a_r = Σ_j W_rj x_j(t) + bx_r + Σ_j U_rj h_j(t) + bh_r */
            for (size_t r = 0; r < Gn; r++) {
                R acc = 0;
                for (size_t j = 0; j < din; j++)
                    acc += W[r * ldw + j] * xt[j];
                for (size_t j = 0; j < n; j++)
                    acc += U[r * ldu + j] * hp[j];
                a[r] = acc + (bx ? bx[r] : 0) + (bh ? bh[r] : 0);
            }
            for (size_t j = 0; j < n; j++) {
                const R i = XI(sigm)(a[j]), f = XI(sigm)(a[n + j]);  /* (G2) */
                const R g = XI(tanh)(a[2 * n + j]);                 /* (G3) */
                const R o = XI(sigm)(a[3 * n + j]);                 /* (G2) */
                const R c = f * cp[j] + i * g;                      /* (G4) */
                const R th = XI(tanh)(c);
                a[j] = i, a[n + j] = f, a[2 * n + j] = g, a[3 * n + j] = o;
                ws->C[(row + B) * n + j] = c;
                ws->Y[row * n + j] = th;
                ws->H[(row + B) * n + j] = o * th;                  /* (G5) */
                h[row * ldh + j] = o * th;
            }
        }
}

void XI(lstm_naive_backward)(size_t T, size_t B, const R *W, size_t ldw,
                             const R *U, size_t ldu, const R *dh, size_t lddh,
                             const R *dcT, size_t lddcT, R *dW, size_t lddw,
                             R *dU, size_t lddu, R *dbx, R *dbh, R *dx,
                             size_t lddx, R *dh0, size_t lddh0, R *dc0,
                             size_t lddc0, XI(gws) *ws)
{
    const size_t din = ws->din, n = ws->n, Gn = G * n;
    R *gc = ws->Gc, *dcc = ws->Cc;
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < n; j++)
            dcc[b * n + j] = dcT ? dcT[b * lddcT + j] : 0;
    for (size_t t = T; t >= 1; t--)
        for (size_t b = 0; b < B; b++) {
            const size_t row = (t - 1) * B + b;
            const R *a = ws->A + row * Gn, *th = ws->Y + row * n;
            const R *cp = ws->C + row * n, *hp = ws->H + row * n;
            const R *xt = ws->Xs + row * din;
            const R *next = t < T ? ws->D + (row + B) * Gn : NULL;
            R *d = ws->D + row * Gn, *g = gc + b * n, *dc = dcc + b * n;
            /* (G7): g_j(t) = dL/dh_j(t) + Σ_r δ_r(t+1) U_rj */
            for (size_t j = 0; j < n; j++) {
                R acc = dh[row * lddh + j];
                if (next)
                    for (size_t r = 0; r < Gn; r++)
                        acc += next[r] * U[r * ldu + j];
                g[j] = acc;
            }
            for (size_t j = 0; j < n; j++) {
                const R i = a[j], f = a[n + j], gg = a[2 * n + j],
                        o = a[3 * n + j];
                const R c = dc[j] + g[j] * o * (1 - th[j] * th[j]); /* (G8) */
                d[j] = c * gg * i * (1 - i);                        /* (G9) */
                d[n + j] = c * cp[j] * f * (1 - f);
                d[2 * n + j] = c * i * (1 - gg * gg);
                d[3 * n + j] = g[j] * th[j] * o * (1 - o);          /* (G10) */
                dc[j] = c * f;
            }
            XI(gated_record)(ws, row, g, d);
            /* (G20) term by term: dW_rj += δ_r x_j, dU_rj += δ_r h_j(t-1),
             * db_r += δ_r, dx_j += Σ_r δ_r W_rj */
            for (size_t r = 0; r < Gn; r++) {
                if (dW)
                    for (size_t j = 0; j < din; j++)
                        dW[r * lddw + j] += d[r] * xt[j];
                if (dU)
                    for (size_t j = 0; j < n; j++)
                        dU[r * lddu + j] += d[r] * hp[j];
                if (dbx)
                    dbx[r] += d[r];
                if (dbh)
                    dbh[r] += d[r];
            }
            if (dx)
                for (size_t j = 0; j < din; j++) {
                    R acc = 0;
                    for (size_t r = 0; r < Gn; r++)
                        acc += d[r] * W[r * ldw + j];
                    dx[row * lddx + j] += acc;
                }
            if (t == 1) { /* (G7) at t = 0 and the carry (G9) at c(0) */
                if (dh0)
                    for (size_t j = 0; j < n; j++) {
                        R acc = 0;
                        for (size_t r = 0; r < Gn; r++)
                            acc += d[r] * U[r * ldu + j];
                        dh0[b * lddh0 + j] += acc;
                    }
                if (dc0)
                    for (size_t j = 0; j < n; j++)
                        dc0[b * lddc0 + j] += dc[j];
            }
        }
}
