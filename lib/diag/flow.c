/*
 * flow.c — the error-flow profile of Hochreiter & Schmidhuber (1997),
 * §3.1.1: how ‖∂L/∂y(t)‖ vanishes or explodes as the error flows back
 * through Wyᵀ diag(f') (eq. (7)).  The recorder that backward calls once
 * per step, the switch that turns it on, the profile of one loss at the
 * last step against the lag — for Network A and for the gated cells
 * (docs/gated.md, "Error flow") — and the overflow-safe norm they and the
 * clipping share.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cells/gated/gated.h"
#include "cells/vanilla/core.h"

/* ------------------------------------------------------------------------ */
/* Norms                                                                     */
/* ------------------------------------------------------------------------ */

/* Entry (i, j) of A, or of A ⊙ D rounded to R as eq. (5)/(8) rounds δ. */
static inline double entry(const R *A, size_t lda, const R *D, size_t ldd,
                           size_t i, size_t j)
{
    R v = A[i * lda + j];
    if (D)
        v = v * D[i * ldd + j];
    return (double)v;
}

/* ‖A ⊙ D‖_F (D NULL: ‖A‖_F) in double.  One pass of squares in double is
 * exact enough and costs one multiply-add per entry; only if that sum
 * overflowed or lost its precision to underflow (possible in double, never
 * for float entries) is the norm taken again scaled by the largest entry. */
static double norm_prod(size_t rows, size_t cols, const R *A, size_t lda,
                        const R *D, size_t ldd)
{
    double ssq = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double v = entry(A, lda, D, ldd, i, j);
            ssq += v * v;
        }
    /* A NaN entry makes ssq NaN, an infinite one +inf: both are answers. */
    if (isnan(ssq) || (ssq >= 0x1p-900 && ssq <= DBL_MAX))
        return sqrt(ssq);
    double amax = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double v = fabs(entry(A, lda, D, ldd, i, j));
            if (v > amax)
                amax = v;
        }
    if (amax == 0 || isinf(amax))
        return amax;
    ssq = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double v = entry(A, lda, D, ldd, i, j) / amax;
            ssq += v * v;
        }
    return amax * sqrt(ssq);
}

double XI(norm2)(size_t rows, size_t cols, const R *A, size_t lda)
{
    return norm_prod(rows, cols, A, lda, NULL, 0);
}

/* ------------------------------------------------------------------------ */
/* Recording during backward                                                 */
/* ------------------------------------------------------------------------ */

void XI(record_flow)(const struct X(workspace) *ws, size_t k, size_t n,
                     const R *g, const R *d)
{
    if (!ws->flow_g && !ws->flow_d)
        return;
    const size_t dout = ws->net->dout;
    for (size_t i = 0; i < n; i++) {
        const R *gi = g + i * dout, *di = d + i * dout;
        /* ‖g(t)‖ = ‖∂L/∂y(t)‖ before f' (eq. (3)+(7)); ‖δ(t)‖ after (5)/(8) */
        if (ws->flow_g)
            ws->flow_g[k + i] = norm_prod(1, dout, gi, dout, NULL, 0);
        if (ws->flow_d)
            ws->flow_d[k + i] = norm_prod(1, dout, gi, dout, di, dout);
    }
}

bptt_status X(workspace_record_flow)(X(workspace) *ws, double *gnorm,
                                     double *dnorm)
{
    static const char fn[] = PREFIX "workspace_record_flow";
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    ws->flow_g = gnorm;
    ws->flow_d = dnorm;
    bptt__leave(&ws->busy);
    return BPTT_OK;
}

/* ------------------------------------------------------------------------ */
/* The profile of one loss at the last step against the lag                  */
/* ------------------------------------------------------------------------ */

/* The loss gradient of L(T) alone: rows of the last step of dy (T·B rows
 * of n, zero elsewhere) from dyT (B x n, ld lddyT), or (1, ..., 1)/√n for
 * dyT NULL. */
static void last_step(size_t T, size_t B, size_t n, const R *dyT,
                      size_t lddyT, R *dy)
{
    R *last = dy + (T - 1) * B * n;
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < n; j++)
            last[b * n + j] = dyT ? dyT[b * lddyT + j]
                                  : (R)(1 / sqrt((double)n));
}

/* Recorded rows (t−1)·B + b in lag order: τ = T − t first. */
static void by_lag(size_t T, size_t B, double *gnorm, double *dnorm)
{
    for (size_t lo = 0, hi = T - 1; lo < hi; lo++, hi--)
        for (size_t b = 0; b < B; b++) {
            double tmp = gnorm[lo * B + b];
            gnorm[lo * B + b] = gnorm[hi * B + b];
            gnorm[hi * B + b] = tmp;
            if (dnorm) {
                tmp = dnorm[lo * B + b];
                dnorm[lo * B + b] = dnorm[hi * B + b];
                dnorm[hi * B + b] = tmp;
            }
        }
}

/* What check_call does not: the arrays, and a forward of this shape kept
 * in ws (read once ws is held). */
static bptt_status check_profile(const char *fn, const bptt_net *net,
                                 size_t T, size_t B, const R *W, size_t ldw,
                                 const R *dyT, size_t lddyT,
                                 const X(workspace) *ws)
{
    bptt_status st = XI(check_arg)(fn, "W", W, 1, net->dout, net->m, ldw);
    if (st == BPTT_OK)
        st = XI(check_arg)(fn, "dyT", dyT, 0, B, net->dout, lddyT);
    if (st != BPTT_OK)
        return st;
    if (ws->fwd_T != T || ws->fwd_B != B)
        return bptt__fail(BPTT_ENOFORWARD, fn,
                          "the workspace holds no forward of T = %zu, B = %zu",
                          T, B);
    return BPTT_OK;
}

/* The profile once ws is held: check_profile has passed. */
static bptt_status profile(const char *fn, const bptt_net *net, size_t T,
                           size_t B, const R *W, size_t ldw, const R *dyT,
                           size_t lddyT, double *gnorm, double *dnorm,
                           X(workspace) *ws)
{
    bptt_status st;
    const size_t dout = net->dout, TB = T * B;
    /* dL/dy: zero but at the last step (the loss L(T) alone), and a dW the
     * backward needs and the profile discards.  Sizes fit: the workspace
     * already holds arrays of T·B·m elements. */
    R *dy = calloc(TB * dout, sizeof(R));
    R *dW = malloc(dout * net->m * sizeof(R));
    if (!dy || !dW) {
        free(dy);
        free(dW);
        return bptt__fail(BPTT_ENOMEM, fn, "allocating %zu + %zu elements",
                          TB * dout, dout * net->m);
    }
    last_step(T, B, dout, dyT, lddyT, dy);

    /* Record into the outputs: row (t-1)·B + b holds ‖∂L(T)/∂y(t)‖.  The
     * non-finite check (bptt_workspace_check_finite) is off meanwhile: a
     * NaN or Inf norm is an answer here, and the check would stop the
     * backward half-way through the recording, under its own name. */
    double *saved_g = ws->flow_g, *saved_d = ws->flow_d;
    const int saved_check = ws->check_finite;
    ws->flow_g = gnorm;
    ws->flow_d = dnorm;
    ws->check_finite = 0;
    st = XI(backward_held)(fn, net, T, B, W, ldw, dy, dout, 0, dW, net->m,
                           NULL, NULL, 0, NULL, 0, BPTT_ALGO_AUTO, ws);
    ws->flow_g = saved_g;
    ws->flow_d = saved_d;
    ws->check_finite = saved_check;
    free(dy);
    free(dW);
    if (st != BPTT_OK) /* gnorm or dnorm overlapping W or each other */
        return st;

    by_lag(T, B, gnorm, dnorm);
    return BPTT_OK;
}

bptt_status X(flow_lag_profile)(const bptt_net *net, size_t T, size_t B,
                                const R *W, size_t ldw, const R *dyT,
                                size_t lddyT, double *gnorm, double *dnorm,
                                X(workspace) *ws)
{
    static const char fn[] = PREFIX "flow_lag_profile";
    if (!gnorm)
        return bptt__fail(BPTT_ENULL, fn, "gnorm is NULL");
    CHECK(XI(check_call)(fn, net, T, B, BPTT_ALGO_AUTO, ws));
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = check_profile(fn, net, T, B, W, ldw, dyT, lddyT, ws);
    if (st == BPTT_OK)
        st = profile(fn, net, T, B, W, ldw, dyT, lddyT, gnorm, dnorm, ws);
    bptt__leave(&ws->busy);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The same profile for a gated cell                                         */
/* ------------------------------------------------------------------------ */

/* bptt_gated_flow_lag_profile, bpttf_gated_flow_lag_profile (gated.h).
 * bptt_flow_lag_profile takes Network A's descriptor and workspace, so it
 * cannot read a gated workspace: this runs the public gated backward with
 * the workspace's recorder (bptt_gated_workspace_record_flow) pointed at
 * the caller's arrays, the recurrence alone (every gradient NULL). */
bptt_status X(gated_flow_lag_profile)(size_t T, size_t B, const R *W,
                                      size_t ldw, const R *U, size_t ldu,
                                      const R *dhT, size_t lddhT,
                                      double *gnorm, double *dnorm,
                                      XI(gws) *ws)
{
    static const char fn[] = PREFIX "gated_flow_lag_profile";
    if (!gnorm)
        return bptt__fail(BPTT_ENULL, fn, "gnorm is NULL");
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (T == 0 || B == 0)
        return bptt__fail(BPTT_ESIZE, fn, "T = %zu, B = %zu: both must be > 0",
                          T, B);
    const size_t n = ws->n;
    if (dhT && lddhT < n)
        return bptt__fail(BPTT_ELD, fn, "lddhT = %zu < n = %zu", lddhT, n);
    if (T > ws->Tmax || B > ws->Bmax)
        return bptt__fail(BPTT_ECAPACITY, fn, "T = %zu, B = %zu above the "
                          "workspace's %zu, %zu", T, B, ws->Tmax, ws->Bmax);
    /* Before anything is allocated or recorded, so that an error writes
     * nothing (the backward checks W, U and their leading dimensions, and
     * then records nothing either). */
    if (ws->fwd_T != T || ws->fwd_B != B)
        return bptt__fail(BPTT_ENOFORWARD, fn,
                          "the workspace holds no forward of T = %zu, B = %zu",
                          T, B);
    /* T·B·n fits: the workspace holds arrays of Tmax·Bmax·G·n elements. */
    R *dh = calloc(T * B * n, sizeof(R));
    if (!dh)
        return bptt__fail(BPTT_ENOMEM, fn, "allocating %zu elements",
                          T * B * n);
    last_step(T, B, n, dhT, lddhT, dh);

    /* Row (t−1)·B + b records ‖∂L(T)/∂h(t)‖, the total ḡ(t) of
     * (G7)/(G15).  The non-finite check is off meanwhile: a NaN or Inf
     * norm is an answer here.  The settings change under ws's busy flag
     * (no call on ws runs meanwhile); they are put back after the
     * backward, whose return freed the flag. */
    const bptt_status busy = bptt__enter(fn, "ws", &ws->busy);
    if (busy != BPTT_OK) {
        free(dh);
        return busy;
    }
    double *saved_g = ws->flow_g, *saved_d = ws->flow_d;
    const int saved_check = ws->check_finite;
    ws->flow_g = gnorm;
    ws->flow_d = dnorm;
    ws->check_finite = 0;
    bptt__leave(&ws->busy);
    const bptt_status st = X(gated_backward)(
        T, B, W, ldw, U, ldu, dh, n, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL,
        NULL, 0, NULL, 0, NULL, 0, BPTT_ALGO_AUTO, ws);
    ws->flow_g = saved_g;
    ws->flow_d = saved_d;
    ws->check_finite = saved_check;
    free(dh);
    if (st != BPTT_OK)
        return st;
    by_lag(T, B, gnorm, dnorm);
    return BPTT_OK;
}
