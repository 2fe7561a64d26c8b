/*
 * finite.c — the opt-in non-finite check (bptt_workspace_check_finite):
 * scans of a call's inputs before it writes anything and of its results
 * after, reporting the first NaN or ±Inf by array, step, sequence and
 * element.  Off by default: a scan reads every input and output once, which
 * is cheap next to the O(T·B·dout·(din+dout)) passes but not free.
 */
#include <math.h>

#include "cells/vanilla/core.h"
#include "diag/finite.h"

/* How a row of an array is named in the detail. */
typedef enum rowkind {
    MATRIX, /* W, dW: "W[i][j]"                                        */
    VECTOR, /* b, db: one row, "b[j]"                                  */
    STATE,  /* y0, dy0: row b is sequence b, "y0 of sequence b"        */
    STEPS,  /* x, y, dy, dx: row t*B+b, "x(t0 + t) of sequence b"      */
} rowkind;

/* An array to scan: rows x cols with leading dimension ld.  For STEPS, B
 * sequences per step, and t0 the time index of row block 0 (x(0) but
 * y(1)); down scans the steps from the last to the first, the order
 * backward computes them in. */
typedef struct scan {
    const char *name;
    rowkind kind;
    const R *a;
    size_t rows, cols, ld, B, t0;
    int down;
} scan;

/* Branch-free over a row so that the common, all-finite case vectorises. */
static int row_finite(const R *a, size_t n)
{
    int bad = 0;
    for (size_t j = 0; j < n; j++)
        bad |= !isfinite(a[j]);
    return !bad;
}

static const char *what(R v)
{
    return isnan(v) ? "NaN" : signbit(v) ? "-Inf" : "+Inf";
}

/* BPTT_OK if every element of s is finite (or s.a is NULL: an optional
 * array not given), otherwise BPTT_ENONFINITE naming the first bad one. */
static bptt_status check(const char *fn, scan s)
{
    if (!s.a)
        return BPTT_OK;
    for (size_t r = 0; r < s.rows; r++) {
        size_t row = r;
        if (s.down) /* same sequence order within a step, steps reversed */
            row = (s.rows / s.B - 1 - r / s.B) * s.B + r % s.B;
        const R *a = s.a + row * s.ld;
        if (row_finite(a, s.cols))
            continue;
        size_t j = 0;
        while (isfinite(a[j]))
            j++;
        switch (s.kind) {
        case MATRIX:
            return bptt__fail(BPTT_ENONFINITE, fn, "%s[%zu][%zu] is %s", s.name,
                              row, j, what(a[j]));
        case VECTOR:
            return bptt__fail(BPTT_ENONFINITE, fn, "%s[%zu] is %s", s.name, j,
                              what(a[j]));
        case STATE:
            return bptt__fail(BPTT_ENONFINITE, fn,
                              "%s of sequence %zu, element %zu, is %s", s.name,
                              row, j, what(a[j]));
        case STEPS:
            return bptt__fail(BPTT_ENONFINITE, fn,
                              "%s(%zu) of sequence %zu, element %zu, is %s",
                              s.name, s.t0 + row / s.B, row % s.B, j,
                              what(a[j]));
        }
    }
    return BPTT_OK;
}

bptt_status X(workspace_check_finite)(X(workspace) *ws, int on)
{
    static const char fn[] = PREFIX "workspace_check_finite";
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    ws->check_finite = on != 0;
    bptt__leave(&ws->busy);
    return BPTT_OK;
}

bptt_status XI(finite_forward_inputs)(const char *fn, const X(workspace) *ws,
                                      size_t T, size_t B, const R *W,
                                      size_t ldw, const R *b, const R *x,
                                      size_t ldx, const R *y0, size_t ldy0)
{
    if (!ws->check_finite)
        return BPTT_OK;
    const bptt_net *net = ws->net;
    bptt_status st;
    st = check(fn, (scan){"W", MATRIX, W, net->dout, net->m, ldw, 1, 0, 0});
    if (!st)
        st = check(fn, (scan){"b", VECTOR, b, 1, net->dout, net->dout, 1, 0, 0});
    if (!st)
        st = check(fn, (scan){"y0", STATE, y0, B, net->dout, ldy0, B, 0, 0});
    if (!st)
        st = check(fn, (scan){"x", STEPS, x, T * B, net->din, ldx, B, 0, 0});
    return st;
}

bptt_status XI(finite_forward_results)(const char *fn, const X(workspace) *ws,
                                       size_t T, size_t B, const R *y,
                                       size_t ldy)
{
    if (!ws->check_finite)
        return BPTT_OK;
    /* row t*B+b of y is y(t+1) */
    return check(fn, (scan){"y", STEPS, y, T * B, ws->net->dout, ldy, B, 1, 0});
}

bptt_status XI(finite_backward_inputs)(const char *fn, const X(workspace) *ws,
                                       size_t T, size_t B, const R *W,
                                       size_t ldw, const R *dy, size_t lddy)
{
    if (!ws->check_finite)
        return BPTT_OK;
    const bptt_net *net = ws->net;
    bptt_status st;
    st = check(fn, (scan){"W", MATRIX, W, net->dout, net->m, ldw, 1, 0, 0});
    if (!st)
        st = check(fn, (scan){"dy", STEPS, dy, T * B, net->dout, lddy, B, 1, 1});
    return st;
}

bptt_status XI(finite_backward_results)(const char *fn, const X(workspace) *ws,
                                        size_t T, size_t B, const R *dW,
                                        size_t lddw, const R *db, const R *dx,
                                        size_t lddx, const R *dy0,
                                        size_t lddy0)
{
    if (!ws->check_finite)
        return BPTT_OK;
    const bptt_net *net = ws->net;
    bptt_status st;
    st = check(fn, (scan){"dx", STEPS, dx, T * B, net->din, lddx, B, 0, 1});
    if (!st)
        st = check(fn, (scan){"dy0", STATE, dy0, B, net->dout, lddy0, B, 0, 0});
    if (!st)
        st = check(fn, (scan){"dW", MATRIX, dW, net->dout, net->m, lddw, 1, 0, 0});
    if (!st)
        st = check(fn, (scan){"db", VECTOR, db, 1, net->dout, net->dout, 1, 0, 0});
    return st;
}

bptt_status XI(finite_block)(const char *fn, const char *name, const R *a,
                             size_t rows, size_t cols, size_t ld)
{
    if (!a)
        return BPTT_OK;
    for (size_t i = 0; i < rows; i++) {
        int bad = 0;
        for (size_t j = 0; j < cols; j++) /* branch-free: vectorises */
            bad |= !isfinite(a[i * ld + j]);
        if (!bad)
            continue;
        for (size_t j = 0; j < cols; j++) {
            const R v = a[i * ld + j];
            if (!isfinite(v))
                return bptt__fail(BPTT_ENONFINITE, fn, "%s[%zu][%zu] is %s",
                                  name, i, j,
                                  isnan(v)      ? "NaN"
                                  : signbit(v) ? "-Inf"
                                               : "+Inf");
        }
    }
    return BPTT_OK;
}
