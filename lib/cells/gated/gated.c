/*
 * cells/gated/gated.c — the gated cells' public forward and backward: the
 * argument checks, the opt-in non-finite scans, the staging of x(t), h(0)
 * and c(0) that every algorithm shares, and the dispatch to the LSTM's or
 * the GRU's naive (lstm/naive.c, gru/naive.c) or deferred (lstm/lstm.c,
 * gru/gru.c) kernels.
 */
#include <math.h>
#include <string.h>

#include "cells/gated/gated.h"
#include "diag/finite.h"

/* bptt__check_mat for an array of R. */
static bptt_status arg(const char *fn, const char *name, const void *p,
                       int required, size_t rows, size_t cols, size_t ld)
{
    return bptt__check_mat(fn, name, p, required, rows, cols, ld, sizeof(R));
}

/* The checks every call starts with: ws present, T and B within its
 * capacity, algo a code the gated cells run. */
static bptt_status check_call(const char *fn, size_t T, size_t B,
                              bptt_algo algo, const XI(gws) *ws)
{
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    CHECK(bptt__check_shape(fn, T, B, ws->Tmax, ws->Bmax, algo));
    if (algo == BPTT_ALGO_GEMV_GER)
        return bptt__fail(BPTT_EALGO, fn,
                          "algo = gemv-ger: the gated cells run naive or "
                          "deferred");
    return BPTT_OK;
}


/* A rows x cols array of R for the overlap check. */
#define GREG(name, p, rows, cols, ld)                                          \
    (bptt__region) { (name), (p), (rows), (cols), (ld), sizeof(R) }

/* x (ld ldx) or, when x is NULL, token ids (checked by the caller, which
 * also owns their overlap check: XI(gated_forward_tokens)). */
static bptt_status forward(const char *fn, size_t T, size_t B, const R *W,
                           size_t ldw, const R *U, size_t ldu, const R *bx,
                           const R *bh, const R *x, size_t ldx,
                           const int32_t *tokens, const R *h0, size_t ldh0,
                           const R *c0, size_t ldc0, R *h, size_t ldh, R *cT,
                           size_t ldcT, bptt_algo algo, XI(gws) *ws)
{
    const size_t din = ws->din, n = ws->n, Gn = ws->G * n, TB = T * B;
    const int lstm = ws->cell == BPTT_CELL_LSTM;
    CHECK(arg(fn, "W", W, 1, Gn, din, ldw));
    CHECK(arg(fn, "U", U, 1, Gn, n, ldu));
    if (!tokens)
        CHECK(arg(fn, "x", x, 1, TB, din, ldx));
    CHECK(arg(fn, "h0", h0, 0, B, n, ldh0));
    CHECK(arg(fn, "h", h, 1, TB, n, ldh));
    if (!lstm && c0)
        return bptt__fail(BPTT_EINVAL, fn, "c0 is given to a GRU");
    if (!lstm && cT)
        return bptt__fail(BPTT_EINVAL, fn, "cT is given to a GRU");
    CHECK(arg(fn, "c0", c0, 0, B, n, ldc0));
    CHECK(arg(fn, "cT", cT, 0, B, n, ldcT));
    const bptt__region out[] = {GREG("h", h, TB, n, ldh),
                                GREG("cT", cT, B, n, ldcT)};
    const bptt__region in[] = {
        GREG("W", W, Gn, din, ldw), GREG("U", U, Gn, n, ldu),
        GREG("bx", bx, 1, Gn, Gn),  GREG("bh", bh, 1, Gn, Gn),
        GREG("x", x, TB, din, ldx), GREG("h0", h0, B, n, ldh0),
        GREG("c0", c0, B, n, ldc0)};
    CHECK(bptt__check_overlap(fn, out, 2, in, 7));
    if (ws->check_finite) {
        CHECK(XI(finite_block)(fn, "W", W, Gn, din, ldw));
        CHECK(XI(finite_block)(fn, "U", U, Gn, n, ldu));
        CHECK(XI(finite_block)(fn, "bx", bx, 1, Gn, Gn));
        CHECK(XI(finite_block)(fn, "bh", bh, 1, Gn, Gn));
        CHECK(XI(finite_block)(fn, "x", x, TB, din, ldx));
        CHECK(XI(finite_block)(fn, "h0", h0, B, n, ldh0));
        CHECK(XI(finite_block)(fn, "c0", c0, B, n, ldc0));
    }

    /* Stage x(t) for dL/dW's GEMM, h(0) and c(0) as block 0 of H and C.
     * Token ids are staged as their one-hot rows (docs/derivation.md,
     * "Token inputs"): the gated cells then run the dense path, exactly. */
    for (size_t k = 0; k < TB; k++)
        if (tokens) {
            memset(ws->Xs + k * din, 0, din * sizeof(R)); /* +0.0 */
            ws->Xs[k * din + (size_t)tokens[k]] = 1;
        } else {
            memcpy(ws->Xs + k * din, x + k * ldx, din * sizeof(R));
        }
    for (size_t b = 0; b < B; b++) {
        if (h0)
            memcpy(ws->H + b * n, h0 + b * ldh0, n * sizeof(R));
        else
            memset(ws->H + b * n, 0, n * sizeof(R));
        if (lstm && c0)
            memcpy(ws->C + b * n, c0 + b * ldc0, n * sizeof(R));
        else if (lstm)
            memset(ws->C + b * n, 0, n * sizeof(R));
    }
    const int naive = algo == BPTT_ALGO_NAIVE;
    if (lstm && naive)
        XI(lstm_naive_forward)(T, B, W, ldw, U, ldu, bx, bh, h, ldh, ws);
    else if (lstm)
        XI(lstm_forward)(T, B, W, ldw, U, ldu, bx, bh, h, ldh, ws);
    else if (naive)
        XI(gru_naive_forward)(T, B, W, ldw, U, ldu, bx, bh, h, ldh, ws);
    else
        XI(gru_forward)(T, B, W, ldw, U, ldu, bx, bh, h, ldh, ws);
    if (cT)
        for (size_t b = 0; b < B; b++)
            memcpy(cT + b * ldcT, ws->C + (TB + b) * n, n * sizeof(R));
    ws->fwd_T = T;
    ws->fwd_B = B;
    ws->fwd_tokens = tokens != NULL;
    if (ws->check_finite) {
        CHECK(XI(finite_block)(fn, "h", h, TB, n, ldh));
        CHECK(XI(finite_block)(fn, "cT", cT, B, n, ldcT));
    }
    return BPTT_OK;
}

bptt_status X(gated_forward)(size_t T, size_t B, const R *W, size_t ldw,
                             const R *U, size_t ldu, const R *bx, const R *bh,
                             const R *x, size_t ldx, const R *h0, size_t ldh0,
                             const R *c0, size_t ldc0, R *h, size_t ldh,
                             R *cT, size_t ldcT, bptt_algo algo, XI(gws) *ws)
{
    static const char fn[] = PREFIX "gated_forward";
    CHECK(check_call(fn, T, B, algo, ws));
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = forward(fn, T, B, W, ldw, U, ldu, bx, bh, x, ldx, NULL,
                             h0, ldh0, c0, ldc0, h, ldh, cT, ldcT, algo, ws);
    bptt__leave(&ws->busy);
    return st;
}

/* Network B's token forward on a gated core (bptt_elman_forward_tokens):
 * the caller (fn) holds ws and has checked the ids and their overlap. */
bptt_status XI(gated_forward_tokens)(const char *fn, size_t T, size_t B,
                                     const R *W, size_t ldw, const R *U,
                                     size_t ldu, const R *bx, const R *bh,
                                     const int32_t *tokens, const R *h0,
                                     size_t ldh0, const R *c0, size_t ldc0,
                                     R *h, size_t ldh, R *cT, size_t ldcT,
                                     bptt_algo algo, XI(gws) *ws)
{
    CHECK(check_call(fn, T, B, algo, ws));
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = forward(fn, T, B, W, ldw, U, ldu, bx, bh, NULL, 0, tokens,
                             h0, ldh0, c0, ldc0, h, ldh, cT, ldcT, algo, ws);
    bptt__leave(&ws->busy);
    return st;
}

static bptt_status backward(const char *fn, size_t T, size_t B, const R *W,
                            size_t ldw, const R *U, size_t ldu, const R *dh,
                            size_t lddh, const R *dcT, size_t lddcT, R beta,
                            R *dW, size_t lddw, R *dU, size_t lddu, R *dbx,
                            R *dbh, R *dx, size_t lddx, R *dh0, size_t lddh0,
                            R *dc0, size_t lddc0, bptt_algo algo, XI(gws) *ws)
{
    const size_t din = ws->din, n = ws->n, Gn = ws->G * n, TB = T * B;
    const int lstm = ws->cell == BPTT_CELL_LSTM;
    CHECK(arg(fn, "W", W, 1, Gn, din, ldw));
    CHECK(arg(fn, "U", U, 1, Gn, n, ldu));
    CHECK(arg(fn, "dh", dh, 1, TB, n, lddh));
    if (!lstm && dcT)
        return bptt__fail(BPTT_EINVAL, fn, "dcT is given to a GRU");
    if (!lstm && dc0)
        return bptt__fail(BPTT_EINVAL, fn, "dc0 is given to a GRU");
    CHECK(arg(fn, "dcT", dcT, 0, B, n, lddcT));
    CHECK(arg(fn, "dW", dW, 0, Gn, din, lddw));
    CHECK(arg(fn, "dU", dU, 0, Gn, n, lddu));
    CHECK(arg(fn, "dx", dx, 0, TB, din, lddx));
    CHECK(arg(fn, "dh0", dh0, 0, B, n, lddh0));
    CHECK(arg(fn, "dc0", dc0, 0, B, n, lddc0));
    if (ws->fwd_T == 0)
        return bptt__fail(BPTT_ENOFORWARD, fn, "no forward in the workspace");
    if (ws->fwd_T != T || ws->fwd_B != B)
        return bptt__fail(BPTT_ENOFORWARD, fn,
                          "the workspace's forward had T = %zu, B = %zu, not "
                          "T = %zu, B = %zu", ws->fwd_T, ws->fwd_B, T, B);
    if (!isfinite(beta))
        return bptt__fail(BPTT_EINVAL, fn, "beta is not finite");
    const bptt__region out[] = {
        GREG("dW", dW, Gn, din, lddw), GREG("dU", dU, Gn, n, lddu),
        GREG("dbx", dbx, 1, Gn, Gn),   GREG("dbh", dbh, 1, Gn, Gn),
        GREG("dx", dx, TB, din, lddx), GREG("dh0", dh0, B, n, lddh0),
        GREG("dc0", dc0, B, n, lddc0)};
    const bptt__region in[] = {
        GREG("W", W, Gn, din, ldw), GREG("U", U, Gn, n, ldu),
        GREG("dh", dh, TB, n, lddh), GREG("dcT", dcT, B, n, lddcT)};
    CHECK(bptt__check_overlap(fn, out, 7, in, 4));
    if (ws->check_finite) {
        CHECK(XI(finite_block)(fn, "W", W, Gn, din, ldw));
        CHECK(XI(finite_block)(fn, "U", U, Gn, n, ldu));
        CHECK(XI(finite_block)(fn, "dh", dh, TB, n, lddh));
        CHECK(XI(finite_block)(fn, "dcT", dcT, B, n, lddcT));
    }

    if (algo == BPTT_ALGO_NAIVE) {
        /* out = beta·out + gradient: scale once, the loops add. */
        if (dW)
            XI(scale)(Gn, din, beta, dW, lddw);
        if (dU)
            XI(scale)(Gn, n, beta, dU, lddu);
        if (dbx)
            XI(scale)(1, Gn, beta, dbx, Gn);
        if (dbh)
            XI(scale)(1, Gn, beta, dbh, Gn);
        if (dx)
            XI(scale)(TB, din, beta, dx, lddx);
        if (dh0)
            XI(scale)(B, n, beta, dh0, lddh0);
        if (dc0)
            XI(scale)(B, n, beta, dc0, lddc0);
        if (lstm)
            XI(lstm_naive_backward)(T, B, W, ldw, U, ldu, dh, lddh, dcT, lddcT,
                                    dW, lddw, dU, lddu, dbx, dbh, dx, lddx,
                                    dh0, lddh0, dc0, lddc0, ws);
        else
            XI(gru_naive_backward)(T, B, W, ldw, U, ldu, dh, lddh, dW, lddw,
                                   dU, lddu, dbx, dbh, dx, lddx, dh0, lddh0,
                                   ws);
    } else if (lstm) {
        XI(lstm_backward)(T, B, W, ldw, U, ldu, dh, lddh, dcT, lddcT, beta, dW,
                          lddw, dU, lddu, dbx, dbh, dx, lddx, dh0, lddh0, dc0,
                          lddc0, ws);
    } else {
        XI(gru_backward)(T, B, W, ldw, U, ldu, dh, lddh, beta, dW, lddw, dU,
                         lddu, dbx, dbh, dx, lddx, dh0, lddh0, ws);
    }
    if (ws->check_finite) {
        CHECK(XI(finite_block)(fn, "dx", dx, TB, din, lddx));
        CHECK(XI(finite_block)(fn, "dh0", dh0, B, n, lddh0));
        CHECK(XI(finite_block)(fn, "dc0", dc0, B, n, lddc0));
        CHECK(XI(finite_block)(fn, "dW", dW, Gn, din, lddw));
        CHECK(XI(finite_block)(fn, "dU", dU, Gn, n, lddu));
        CHECK(XI(finite_block)(fn, "dbx", dbx, 1, Gn, Gn));
        CHECK(XI(finite_block)(fn, "dbh", dbh, 1, Gn, Gn));
    }
    return BPTT_OK;
}

bptt_status X(gated_backward)(size_t T, size_t B, const R *W, size_t ldw,
                              const R *U, size_t ldu, const R *dh,
                              size_t lddh, const R *dcT, size_t lddcT, R beta,
                              R *dW, size_t lddw, R *dU, size_t lddu, R *dbx,
                              R *dbh, R *dx, size_t lddx, R *dh0,
                              size_t lddh0, R *dc0, size_t lddc0,
                              bptt_algo algo, XI(gws) *ws)
{
    static const char fn[] = PREFIX "gated_backward";
    CHECK(check_call(fn, T, B, algo, ws));
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = backward(fn, T, B, W, ldw, U, ldu, dh, lddh, dcT, lddcT,
                              beta, dW, lddw, dU, lddu, dbx, dbh, dx, lddx,
                              dh0, lddh0, dc0, lddc0, algo, ws);
    bptt__leave(&ws->busy);
    return st;
}
