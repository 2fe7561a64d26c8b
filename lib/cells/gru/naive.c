/*
 * gru/naive.c — the GRU's naive loop form: the element-wise sums of
 * docs/gated.md (G11)-(G19) as written there, no BLAS.  The reference the
 * deferred form (gru.c) is tested against; it fills the same workspace
 * arrays, so either backward may follow either forward.
 */
#include "cells/gated/gated.h"

enum { G = 3 };

void XI(gru_naive_forward)(size_t T, size_t B, const R *W, size_t ldw,
                           const R *U, size_t ldu, const R *bx, const R *bh,
                           R *h, size_t ldh, XI(gws) *ws)
{
    const size_t din = ws->din, n = ws->n, Gn = G * n;
    for (size_t t = 0; t < T; t++)
        for (size_t b = 0; b < B; b++) {
            const size_t row = t * B + b;
            const R *xt = ws->Xs + row * din, *hp = ws->H + row * n;
            R *a = ws->A + row * Gn, *yn = ws->Y + row * n;
            for (size_t r = 0; r < Gn; r++) {
                R ax = bx ? bx[r] : 0, ah = bh ? bh[r] : 0;
                for (size_t j = 0; j < din; j++)
                    ax += W[r * ldw + j] * xt[j];
                for (size_t j = 0; j < n; j++)
                    ah += U[r * ldu + j] * hp[j];
                if (r < 2 * n)
                    a[r] = ax + ah; /* (G11), (G12): the sums of r and z */
                else
                    a[r] = ax, yn[r - 2 * n] = ah; /* (G13)'s two halves */
            }
            for (size_t j = 0; j < n; j++) {
                const R r = XI(sigm)(a[j]), z = XI(sigm)(a[n + j]);
                const R nn = XI(tanh)(a[2 * n + j] + r * yn[j]);   /* (G13) */
                const R hv = (1 - z) * nn + z * hp[j];             /* (G14) */
                a[j] = r, a[n + j] = z, a[2 * n + j] = nn;
                ws->H[(row + B) * n + j] = hv;
                h[row * ldh + j] = hv;
            }
        }
}

void XI(gru_naive_backward)(size_t T, size_t B, const R *W, size_t ldw,
                            const R *U, size_t ldu, const R *dh, size_t lddh,
                            R *dW, size_t lddw, R *dU, size_t lddu, R *dbx,
                            R *dbh, R *dx, size_t lddx, R *dh0, size_t lddh0,
                            XI(gws) *ws)
{
    const size_t din = ws->din, n = ws->n, Gn = G * n;
    R *gc = ws->Gc, *zc = ws->Cc;
    for (size_t k = 0; k < B * n; k++)
        zc[k] = 0;
    for (size_t t = T; t >= 1; t--)
        for (size_t b = 0; b < B; b++) {
            const size_t row = (t - 1) * B + b;
            const R *a = ws->A + row * Gn, *yn = ws->Y + row * n;
            const R *hp = ws->H + row * n, *xt = ws->Xs + row * din;
            const R *next = t < T ? ws->D + (row + B) * Gn : NULL;
            R *d = ws->D + row * Gn, *dn = ws->DN + row * n;
            R *g = gc + b * n, *zg = zc + b * n;
            /* (G15): g_j = dL/dh_j(t) + z_j(t+1) g_j(t+1) + Σ_r δh_r U_rj */
            for (size_t j = 0; j < n; j++) {
                R acc = dh[row * lddh + j] + zg[j];
                if (next)
                    for (size_t r = 0; r < Gn; r++)
                        acc += next[r] * U[r * ldu + j];
                g[j] = acc;
            }
            for (size_t j = 0; j < n; j++) {
                const R r = a[j], z = a[n + j], nn = a[2 * n + j];
                dn[j] = g[j] * (1 - z) * (1 - nn * nn);             /* (G16) */
                d[n + j] = g[j] * (hp[j] - nn) * z * (1 - z);
                d[2 * n + j] = dn[j] * r;                           /* (G17) */
                d[j] = dn[j] * yn[j] * r * (1 - r);                 /* (G18) */
                zg[j] = g[j] * z;                                   /* (G19) */
            }
            XI(gated_record)(ws, row, g, d);
            /* (G20) term by term; the input side has δx_n in place of
             * δh_n */
            for (size_t r = 0; r < Gn; r++) {
                const R dxr = r < 2 * n ? d[r] : dn[r - 2 * n];
                if (dW)
                    for (size_t j = 0; j < din; j++)
                        dW[r * lddw + j] += dxr * xt[j];
                if (dU)
                    for (size_t j = 0; j < n; j++)
                        dU[r * lddu + j] += d[r] * hp[j];
                if (dbx)
                    dbx[r] += dxr;
                if (dbh)
                    dbh[r] += d[r];
            }
            if (dx)
                for (size_t j = 0; j < din; j++) {
                    R acc = 0;
                    for (size_t r = 0; r < Gn; r++)
                        acc += (r < 2 * n ? d[r] : dn[r - 2 * n]) *
                               W[r * ldw + j];
                    dx[row * lddx + j] += acc;
                }
            if (t == 1 && dh0) /* (G19) at t = 0 */
                for (size_t j = 0; j < n; j++) {
                    R acc = zg[j];
                    for (size_t r = 0; r < Gn; r++)
                        acc += d[r] * U[r * ldu + j];
                    dh0[b * lddh0 + j] += acc;
                }
        }
}
