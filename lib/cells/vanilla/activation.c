/*
 * activation.c — per-unit activations f_i and their derivatives f_i'
 * (eq. (4)), applied run by run: the kind is decided once per run of equal
 * activations and the inner loop is branch-free over the run, so that the
 * compiler vectorizes it.
 */
#include <math.h>

#include "cells/vanilla/core.h"

/* glibc (2.35+) ships vector versions of tanh, exp and log1p in libmvec
 * (documented to within 4 ulp; tanh measured at 2.4 ulp here).  Declaring
 * the functions `simd` lets gcc vectorize the loops below with them; scalar
 * glibc tanh took 30-50 ns an element on the development machines and
 * dominated the forward pass at B >= 32.  meson defines BPTT_HAVE_LIBMVEC
 * after checking that such a loop links.  clang lacks the attribute and
 * keeps the scalar calls. */
#if defined(BPTT_HAVE_LIBMVEC) && defined(__GNUC__) && !defined(__clang__)
#define BPTT_SIMD __attribute__((simd("notinbranch")))
BPTT_SIMD double tanh(double);
BPTT_SIMD float tanhf(float);
BPTT_SIMD double exp(double);
BPTT_SIMD float expf(float);
BPTT_SIMD double log1p(double);
BPTT_SIMD float log1pf(float);
#endif

/* Logistic without overflow or cancellation: with e = e^-|z|,
 * 1/(1+e) for z >= 0 and e/(1+e) for z < 0 — a select, not a branch. */
static inline R logistic(R z)
{
    R e = EXP(-FABS(z));
    R r = 1 / (1 + e);
    R er = e * r; /* computed on both sides so the select if-converts */
    return z >= 0 ? r : er;
}

/* Softplus log(1+e^z) = max(z,0) + log1p(e^-|z|), exact and overflow-free. */
static inline R softplus(R z)
{
    return (z > 0 ? z : 0) + LOG1P(EXP(-FABS(z)));
}

/* One run of n units of one row: z[i] -> y[i] = f(z[i]), z[i] = f'(z[i]). */
static void run_apply(const bptt_net *net, bptt_activation act, size_t n,
                      R *restrict z, R *restrict y)
{
    switch (act) {
    case BPTT_ACT_IDENTITY:
        for (size_t i = 0; i < n; i++) {
            y[i] = z[i];
            z[i] = 1;
        }
        break;
    case BPTT_ACT_TANH:
        /* f' from f: 1 - tanh² (no second transcendental call). */
        for (size_t i = 0; i < n; i++) {
            R f = TANH(z[i]);
            y[i] = f;
            z[i] = 1 - f * f;
        }
        break;
    case BPTT_ACT_LOGISTIC:
        for (size_t i = 0; i < n; i++) {
            R f = logistic(z[i]);
            y[i] = f;
            z[i] = f * (1 - f);
        }
        break;
    case BPTT_ACT_RELU:
        /* f'(0) = 0: the subgradient the tests and finite differences use.
         * y = v unless v < 0, so that a NaN z (Inf − Inf from huge weights)
         * stays NaN in y, where the non-finite check can see it. */
        for (size_t i = 0; i < n; i++) {
            R v = z[i];
            y[i] = v < 0 ? 0 : v;
            z[i] = v > 0 ? 1 : 0;
        }
        break;
    case BPTT_ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++) {
            R v = z[i];
            y[i] = softplus(v);
            z[i] = logistic(v);
        }
        break;
    case BPTT_ACT_CUSTOM:
        for (size_t i = 0; i < n; i++) {
            double v = (double)z[i];
            y[i] = (R)net->custom.f(v, net->custom.user);
            z[i] = (R)net->custom.df(v, net->custom.user);
        }
        break;
    case BPTT_NACTIVATION:
        break; /* excluded by bptt_net_create */
    }
}

/* Units of one kind gathered into contiguous chunks (net->order), applied
 * with the same vectorizable loops, and scattered back.  The chunks live on
 * the stack: no allocation in forward. */

/* First k in [lo, hi) with idx[k] >= c (idx ascending), or hi. */
static size_t lower_bound(const size_t *idx, size_t lo, size_t hi, size_t c)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The units c0 <= i < c1 of one row, kind by kind: each kind's units are
 * ascending in net->order, so those in the range are one sub-range. */
static void apply_grouped(const bptt_net *net, size_t c0, size_t c1, R *zrow,
                          R *yrow)
{
    R zc[ACT_BLOCK], yc[ACT_BLOCK];
    for (int kind = 0; kind < BPTT_NACTIVATION; kind++) {
        const size_t g0 = net->group[kind], g1 = net->group[kind + 1];
        const size_t k0 = lower_bound(net->order, g0, g1, c0);
        const size_t n = lower_bound(net->order, k0, g1, c1) - k0;
        const size_t *idx = net->order + k0;
        for (size_t i = 0; i < n; i++)
            zc[i] = zrow[idx[i]];
        run_apply(net, (bptt_activation)kind, n, zc, yc);
        for (size_t i = 0; i < n; i++) {
            yrow[idx[i]] = yc[i];
            zrow[idx[i]] = zc[i];
        }
    }
}

/* The units of one block c0 <= i < c1 of a row, run by run. */
static void apply_runs(const bptt_net *net, size_t c0, size_t c1, R *zrow,
                       R *yrow)
{
    for (size_t r = 0; r < net->nruns; r++) {
        const bptt_run *run = &net->runs[r];
        size_t lo = run->start > c0 ? run->start : c0;
        size_t hi = run->start + run->len < c1 ? run->start + run->len : c1;
        if (lo < hi)
            run_apply(net, run->act, hi - lo, zrow + lo, yrow + lo);
    }
}

/* Units are taken in blocks of ACT_BLOCK from unit 0, whatever c0 and c1
 * (multiples of ACT_BLOCK): a vectorised loop then splits each block into
 * vector and scalar parts the same way in a whole-row call and in a
 * thread's share, and libm's vector and scalar functions may differ in the
 * last bit. */
void XI(activate_cols)(const bptt_net *net, size_t B, size_t c0, size_t c1,
                       R *zd, R *y, size_t ldy)
{
    for (size_t b = 0; b < B; b++) {
        R *zrow = zd + b * net->dout;
        R *yrow = y + b * ldy;
        for (size_t a = c0; a < c1; a += ACT_BLOCK) {
            const size_t e = a + ACT_BLOCK < c1 ? a + ACT_BLOCK : c1;
            if (net->order)
                apply_grouped(net, a, e, zrow, yrow);
            else
                apply_runs(net, a, e, zrow, yrow);
        }
    }
}

void XI(activate)(const bptt_net *net, size_t B, R *zd, R *y, size_t ldy)
{
    XI(activate_cols)(net, B, 0, net->dout, zd, y, ldy);
}
