/*
 * network.c — Network A's forward and backward in matrix form (the public
 * entry points): argument checks, then per step one GEMV (GEMM for B > 1)
 * forward, and backward one transposed GEMV for eq. (7) and one GER for
 * eq. (12) over the stacked s(t) = [x(t); y(t)] (gemv-ger).  The naive loop
 * form (naive.c) and the deferred algorithm (deferred.c) are dispatched from
 * here, after the checks and the staging of s(t) that all of them share.
 * Token inputs (bptt_forward_tokens, bptt_backward_tokens) run the same
 * code; only the input term differs: a gather of W_x's columns forward, a
 * scatter-add into dW_x's backward, no dx (docs/derivation.md, "Token
 * inputs", eqs. (T1), (T2)).
 */
#include <math.h>
#include <string.h>

#include "cells/vanilla/core.h"

/* ------------------------------------------------------------------------ */
/* Argument checks, shared by forward and backward                           */
/* ------------------------------------------------------------------------ */

bptt_status XI(check_call)(const char *fn, const bptt_net *net, size_t T,
                           size_t B, bptt_algo algo, const X(workspace) *ws)
{
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (ws->net != net)
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "ws was made for another network descriptor");
    if (ws->gen != net->gen)
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "ws was made for a freed network descriptor whose "
                          "address net now reuses");
    return bptt__check_shape(fn, T, B, ws->Tmax, ws->Bmax, algo);
}

/* ------------------------------------------------------------------------ */
/* Forward                                                                   */
/* ------------------------------------------------------------------------ */

/* Forward one step at a time: z(t+1) = W s(t) as the derivation's loops (naive)
 * or one GEMV (GEMM for B > 1) over the whole stacked s(t); after tokens, z
 * holds W_x e_k already and only the y-columns are added. */
static void forward_per_step(const bptt_net *net, size_t T, size_t B,
                             const R *W, size_t ldw, const R *b, R *y,
                             size_t ldy, bptt_algo algo, X(workspace) *ws)
{
    const size_t din = net->din, dout = net->dout, m = net->m;
    const int tok = ws->fwd_tokens;
    const size_t j0 = tok ? din : 0; /* first column of the product */
    R *S = ws->S;
    for (size_t t = 0; t < T; t++) {
        const R *s = S + t * B * m;
        R *z = ws->D + t * B * dout;
        R *yt = y + t * B * ldy;
        /* z(t+1) = W s(t) */
        if (algo == BPTT_ALGO_NAIVE)
            XI(naive_affine)(net, B, W, ldw, s, tok, z);
        else
            XI(rows_times)(1, B, dout, m - j0, s + j0, m, W + j0, ldw,
                           tok ? 1 : 0, z, dout);
        if (b)
            XI(add_bias)(B, dout, b, z, dout);
        /* y(t+1) = f(z(t+1)); z becomes f'(z(t+1)) for eq. (5)/(8) */
        XI(activate)(net, B, z, yt, ldy);
        if (t + 1 < T)
            for (size_t bb = 0; bb < B; bb++)
                memcpy(S + ((t + 1) * B + bb) * m + din, yt + bb * ldy,
                       dout * sizeof(R));
    }
}

void XI(tokens_gather)(const X(workspace) *ws, size_t n, const R *W,
                       size_t ldw, R *Z)
{
    const size_t dout = ws->net->dout;
    for (size_t k = 0; k < n; k++) {
        const R *col = W + XI(token_at)(ws, k);
        R *z = Z + k * dout;
        for (size_t i = 0; i < dout; i++)
            z[i] = col[i * ldw];
    }
}

void XI(tokens_scatter)(const X(workspace) *ws, size_t k0, size_t n,
                        size_t r0, size_t r1, R *dW, size_t lddw)
{
    const size_t dout = ws->net->dout;
    for (size_t k = k0; k < k0 + n; k++) {
        R *col = dW + XI(token_at)(ws, k);
        const R *delta = ws->Delta + k * dout;
        for (size_t i = r0; i < r1; i++)
            col[i * lddw] += delta[i];
    }
}

/* forward once ws is ours (bptt_forward or bptt_forward_tokens checked the
 * call and set its busy flag): x (ld ldx) or, if x is NULL, the ids
 * tokens. */
static bptt_status forward(const char *fn, const bptt_net *net, size_t T,
                           size_t B, const R *W, size_t ldw, const R *b,
                           const R *x, size_t ldx, const int32_t *tokens,
                           const R *y0, size_t ldy0, R *y, size_t ldy,
                           bptt_algo algo, X(workspace) *ws)
{
    const size_t din = net->din, dout = net->dout, m = net->m, TB = T * B;
    CHECK(XI(check_arg)(fn, "W", W, 1, dout, m, ldw));
    if (x || !tokens)
        CHECK(XI(check_arg)(fn, "x", x, 1, TB, din, ldx));
    CHECK(XI(check_arg)(fn, "y0", y0, 0, B, dout, ldy0));
    CHECK(XI(check_arg)(fn, "y", y, 1, TB, dout, ldy));
    const bptt__region out[] = {RREG("y", y, TB, dout, ldy)};
    const bptt__region in[] = {
        RREG("W", W, dout, m, ldw), RREG("b", b, 1, dout, dout),
        RREG("x", x, TB, din, ldx), RREG("y0", y0, B, dout, ldy0),
        {"tokens", x ? NULL : tokens, 1, TB, TB, sizeof(int32_t)}};
    CHECK(bptt__check_overlap(fn, out, 1, in, 5));
    if (!x) /* every id before anything is written */
        CHECK(bptt__check_tokens(fn, tokens, T, B, din));
    CHECK(XI(finite_forward_inputs)(fn, ws, T, B, W, ldw, b, x, ldx, y0, ldy0));
    if (algo == BPTT_ALGO_AUTO)
        algo = bptt_algo_resolve(net, T, B);

    /* Stage s(t) = [x(t); y(t)]: all x now (or the ids, see core.h), y(0)
     * now, y(t) as it comes; backward's GER reads these rows. */
    R *S = ws->S;
    ws->fwd_tokens = !x;
    for (size_t k = 0; k < TB; k++)
        if (x)
            memcpy(S + k * m, x + k * ldx, din * sizeof(R));
        else
            memcpy(S + k * m, tokens + k, sizeof *tokens);
    for (size_t bb = 0; bb < B; bb++) {
        R *s0 = S + bb * m + din;
        if (y0)
            memcpy(s0, y0 + bb * ldy0, dout * sizeof(R));
        else
            memset(s0, 0, dout * sizeof(R));
    }

    /* Tokens: z(t+1) starts as W_x e_k for every step (eq. (T1)), the
     * one-hot product without its zeros; each algorithm adds the rest. */
    if (!x)
        XI(tokens_gather)(ws, TB, W, ldw, ws->D);
    if (algo == BPTT_ALGO_DEFERRED)
        XI(deferred_forward)(net, T, B, W, ldw, b, x, ldx, y, ldy, ws);
    else
        forward_per_step(net, T, B, W, ldw, b, y, ldy, algo, ws);
    ws->fwd_T = T;
    ws->fwd_B = B;
    return XI(finite_forward_results)(fn, ws, T, B, y, ldy);
}

bptt_status X(forward)(const bptt_net *net, size_t T, size_t B, const R *W,
                       size_t ldw, const R *b, const R *x, size_t ldx,
                       const R *y0, size_t ldy0, R *y, size_t ldy,
                       bptt_algo algo, X(workspace) *ws)
{
    static const char fn[] = PREFIX "forward";
    CHECK(XI(check_call)(fn, net, T, B, algo, ws));
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = forward(fn, net, T, B, W, ldw, b, x, ldx, NULL, y0,
                             ldy0, y, ldy, algo, ws);
    bptt__leave(&ws->busy);
    return st;
}

/* bptt_forward_tokens, bpttf_forward_tokens */
bptt_status X(forward_tokens)(const bptt_net *net, size_t T, size_t B,
                              const R *W, size_t ldw, const R *b,
                              const int32_t *tokens, const R *y0, size_t ldy0,
                              R *y, size_t ldy, bptt_algo algo,
                              X(workspace) *ws)
{
    static const char fn[] = PREFIX "forward_tokens";
    CHECK(XI(check_call)(fn, net, T, B, algo, ws));
    if (!tokens)
        return bptt__fail(BPTT_ENULL, fn, "tokens is NULL");
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = forward(fn, net, T, B, W, ldw, b, NULL, 0, tokens, y0,
                             ldy0, y, ldy, algo, ws);
    bptt__leave(&ws->busy);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Backward                                                                  */
/* ------------------------------------------------------------------------ */

void XI(delta_step)(const bptt_net *net, size_t t, size_t T, size_t B,
                   const R *W, size_t ldw, const R *dy, size_t lddy,
                   X(workspace) *ws)
{
    const size_t dout = net->dout, k = (t - 1) * B; /* first row of step t */
    const R *Wy = W + net->din;
    R *delta = ws->Delta + k * dout;
    const R *D = ws->D + k * dout;
    /* g(t) = dL/dy(t) (eq. (3)) ... */
    for (size_t bb = 0; bb < B; bb++)
        memcpy(delta + bb * dout, dy + (k + bb) * lddy, dout * sizeof(R));
    /* ... + Wyᵀ δ(t+1)  (eq. (7)): the one truly sequential product */
    if (t < T)
        XI(rows_times)(0, B, dout, dout, delta + B * dout, dout, Wy, ldw, 1,
                       delta, dout);
    XI(record_flow)(ws, k, B, delta, D); /* ‖g(t)‖, ‖δ(t)‖ if asked */
    /* δ(t) = g(t) ⊙ f'(z(t))  (eq. (5)/(8)) */
    for (size_t i = 0; i < B * dout; i++)
        delta[i] *= D[i];
}

/* gemv-ger: per step, eq. (7) as one transposed GEMV on Wy (GEMM for B > 1)
 * and eq. (12) as one GER over s(t-1) (a rank-B GEMM update for B > 1);
 * after tokens, the GER over y(t-1) and the scatter-add for x(t-1). */
static void backward_gemv_ger(const bptt_net *net, size_t T, size_t B,
                              const R *W, size_t ldw, const R *dy, size_t lddy,
                              R *dW, size_t lddw, R *db, R *dx, size_t lddx,
                              R *dy0, size_t lddy0, X(workspace) *ws)
{
    const size_t din = net->din, dout = net->dout, m = net->m;
    const R *Wy = W + din;
    const size_t j0 = ws->fwd_tokens ? din : 0; /* first column of the GER */
    for (size_t t = T; t >= 1; t--) {
        const size_t k = (t - 1) * B; /* first row of step t */
        const R *delta = ws->Delta + k * dout;
        const R *s = ws->S + k * m;
        XI(delta_step)(net, t, T, B, W, ldw, dy, lddy, ws);
        /* dL/dW += δ(t) s(t-1)ᵀ  (eqs. (9)/(11)/(12)) */
        if (dW)
            XI(rank_update)(B, dout, m - j0, delta, dout, s + j0, m, dW + j0,
                            lddw);
        if (dW && j0)
            XI(tokens_scatter)(ws, k, B, 0, dout, dW, lddw);
        if (db)
            for (size_t bb = 0; bb < B; bb++)
                for (size_t i = 0; i < dout; i++)
                    db[i] += delta[bb * dout + i];
        /* dL/dx(t-1) = Wxᵀ δ(t) */
        if (dx)
            XI(rows_times)(0, B, din, dout, delta, dout, W, ldw, 1,
                           dx + k * lddx, lddx);
    }
    /* dL/dy(0) = Wyᵀ δ(1) */
    if (dy0)
        XI(rows_times)(0, B, dout, dout, ws->Delta, dout, Wy, ldw, 1, dy0,
                       lddy0);
}

/* backward_held for a dense (tokens 0) or a token call (tokens 1: dx is
 * NULL): each needs a forward of its kind in ws. */
static bptt_status backward(const char *fn, const bptt_net *net, size_t T,
                            size_t B, const R *W, size_t ldw, const R *dy,
                            size_t lddy, R beta, R *dW, size_t lddw, R *db,
                            R *dx, size_t lddx, R *dy0, size_t lddy0,
                            int tokens, bptt_algo algo, X(workspace) *ws)
{
    const size_t din = net->din, dout = net->dout, m = net->m, TB = T * B;
    CHECK(XI(check_arg)(fn, "W", W, 1, dout, m, ldw));
    CHECK(XI(check_arg)(fn, "dy", dy, 1, TB, dout, lddy));
    CHECK(XI(check_arg)(fn, "dW", dW, 0, dout, m, lddw));
    CHECK(XI(check_arg)(fn, "dx", dx, 0, TB, din, lddx));
    CHECK(XI(check_arg)(fn, "dy0", dy0, 0, B, dout, lddy0));
    /* The error-flow arrays are outputs too (bptt_workspace_record_flow). */
    const bptt__region out[] = {
        RREG("dW", dW, dout, m, lddw),   RREG("db", db, 1, dout, dout),
        RREG("dx", dx, TB, din, lddx),   RREG("dy0", dy0, B, dout, lddy0),
        {"gnorm", ws->flow_g, 1, TB, TB, sizeof(double)},
        {"dnorm", ws->flow_d, 1, TB, TB, sizeof(double)}};
    const bptt__region in[] = {RREG("W", W, dout, m, ldw),
                               RREG("dy", dy, TB, dout, lddy)};
    CHECK(bptt__check_overlap(fn, out, 6, in, 2));
    if (ws->fwd_T == 0)
        return bptt__fail(BPTT_ENOFORWARD, fn, "no forward in the workspace");
    if (ws->fwd_T != T || ws->fwd_B != B)
        return bptt__fail(BPTT_ENOFORWARD, fn,
                          "the workspace's forward had T = %zu, B = %zu, not "
                          "T = %zu, B = %zu", ws->fwd_T, ws->fwd_B, T, B);
    /* The x part of S holds x or ids (core.h): a dense backward cannot read
     * ids, and a token backward has no dx to give. */
    if (ws->fwd_tokens != tokens)
        return bptt__fail(BPTT_ENOFORWARD, fn,
                          ws->fwd_tokens
                              ? "the workspace's forward took token ids: "
                                "its backward is " PREFIX "backward_tokens"
                              : "the workspace's forward took a dense x: "
                                "its backward is " PREFIX "backward");
    if (!isfinite(beta))
        return bptt__fail(BPTT_EINVAL, fn, "beta is not finite");
    CHECK(XI(finite_backward_inputs)(fn, ws, T, B, W, ldw, dy, lddy));
    if (algo == BPTT_ALGO_AUTO)
        algo = bptt_algo_resolve(net, T, B);

    if (algo == BPTT_ALGO_DEFERRED) {
        XI(deferred_backward)(net, T, B, W, ldw, dy, lddy, beta, dW, lddw, db,
                              dx, lddx, dy0, lddy0, ws);
        return XI(finite_backward_results)(fn, ws, T, B, dW, lddw, db, dx,
                                           lddx, dy0, lddy0);
    }
    /* out = beta·out + gradient: scale once, then every kernel adds. */
    if (dW)
        XI(scale)(dout, m, beta, dW, lddw);
    if (db)
        XI(scale)(1, dout, beta, db, dout);
    if (dx)
        XI(scale)(TB, din, beta, dx, lddx);
    if (dy0)
        XI(scale)(B, dout, beta, dy0, lddy0);

    if (algo == BPTT_ALGO_NAIVE)
        XI(naive_backward)(net, T, B, W, ldw, dy, lddy, dW, lddw, db, dx, lddx,
                           dy0, lddy0, ws);
    else
        backward_gemv_ger(net, T, B, W, ldw, dy, lddy, dW, lddw, db, dx, lddx,
                          dy0, lddy0, ws);
    if (dW && ws->hook) /* dW is final only now (bptt/hook.h) */
        ws->hook->ready(ws->hook->user, BPTT_GRAD_W, 0, dout);
    return XI(finite_backward_results)(fn, ws, T, B, dW, lddw, db, dx, lddx,
                                       dy0, lddy0);
}

bptt_status X(backward)(const bptt_net *net, size_t T, size_t B, const R *W,
                        size_t ldw, const R *dy, size_t lddy, R beta, R *dW,
                        size_t lddw, R *db, R *dx, size_t lddx, R *dy0,
                        size_t lddy0, bptt_algo algo, X(workspace) *ws)
{
    static const char fn[] = PREFIX "backward";
    CHECK(XI(check_call)(fn, net, T, B, algo, ws));
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = backward(fn, net, T, B, W, ldw, dy, lddy, beta, dW,
                              lddw, db, dx, lddx, dy0, lddy0, 0, algo, ws);
    bptt__leave(&ws->busy);
    return st;
}

/* The forward's own kind: the lag profile (flow.c) reads no input. */
bptt_status XI(backward_held)(const char *fn, const bptt_net *net, size_t T,
                              size_t B, const R *W, size_t ldw, const R *dy,
                              size_t lddy, R beta, R *dW, size_t lddw, R *db,
                              R *dx, size_t lddx, R *dy0, size_t lddy0,
                              bptt_algo algo, X(workspace) *ws)
{
    return backward(fn, net, T, B, W, ldw, dy, lddy, beta, dW, lddw, db,
                    ws->fwd_tokens ? NULL : dx, lddx, dy0, lddy0,
                    ws->fwd_tokens, algo, ws);
}

/* bptt_backward_tokens, bpttf_backward_tokens */
bptt_status X(backward_tokens)(const bptt_net *net, size_t T, size_t B,
                               const R *W, size_t ldw, const R *dy,
                               size_t lddy, R beta, R *dW, size_t lddw, R *db,
                               R *dy0, size_t lddy0, bptt_algo algo,
                               X(workspace) *ws)
{
    static const char fn[] = PREFIX "backward_tokens";
    CHECK(XI(check_call)(fn, net, T, B, algo, ws));
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = backward(fn, net, T, B, W, ldw, dy, lddy, beta, dW, lddw,
                              db, NULL, 0, dy0, lddy0, 1, algo, ws);
    bptt__leave(&ws->busy);
    return st;
}
