/*
 * tbptt.c — truncated BPTT(h; h') (Williams & Peng 1990) for streams: the
 * last h steps' inputs and states in one arena, each call's window run by
 * the public forward and backward on an inner workspace of h steps.  A
 * stream of token ids (bptt_tbptt_elman_step_tokens) keeps ids in place
 * of the input rows and runs the token forward and backward.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "heads/elman_impl.h"

struct X(tbptt) {
    const bptt_net *net;
    size_t h, hp, B;
    size_t len;                /* steps in the history, <= h */
    size_t pos;                /* steps of the stream so far */
    X(workspace) *ws;          /* h steps */
    R *Xw, *Xh;                /* window and history inputs, h*B x din;
                                  a token stream: h*B int32 ids each */
    int tokens;                /* the history holds ids (if len > 0) */
    R *Y, *Yh, *DY;            /* window and history states, window dL/dy */
    R *ys;                     /* the state before the history's first step */
    size_t nout;               /* Network B's outputs; 0: Network A */
    R *head;                   /* Network B: ȳ, dȳ rows (h'*B), dWo, dbo */
};

static_assert(sizeof(struct X(tbptt)) <= BPTT_ARENA_SLOT,
              "tbptt header exceeds its slot");

enum { A_WS, A_XW, A_XH, A_Y, A_YH, A_DY, A_YS, A_HEAD, A_N };

static bptt_status alloc(const char *fn, const bptt_net *net, size_t nout,
                         size_t h, size_t hp, size_t B, X(tbptt) **tb)
{
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (!tb)
        return bptt__fail(BPTT_ENULL, fn, "tb is NULL");
    if (h == 0 || hp == 0 || B == 0)
        return bptt__fail(BPTT_ESIZE, fn, "h (%zu), h' (%zu) and B (%zu) must "
                          "be > 0", h, hp, B);
    if (hp > h)
        return bptt__fail(BPTT_EINVAL, fn, "h' (%zu) exceeds h (%zu)", hp, h);
    size_t wsb;
    CHECK(X(workspace_size)(net, h, B, &wsb));
    int ok = 1;
    const size_t r = sizeof(R), rows = bptt__mul(h, B, &ok);
    const size_t xb = bptt__mul(bptt__mul(rows, net->din, &ok), r, &ok),
                 yb = bptt__mul(bptt__mul(rows, net->dout, &ok), r, &ok);
    const size_t bytes[A_N] = {[A_WS] = wsb, [A_XW] = xb, [A_XH] = xb,
                               [A_Y] = yb, [A_YH] = yb, [A_DY] = yb,
                               [A_YS] = B * net->dout * r,
                               [A_HEAD] = bptt__mul(
                                   bptt__add(bptt__mul(bptt__mul(2 * hp, B,
                                                                 &ok),
                                                       nout, &ok),
                                             bptt__mul(nout, net->dout + 1,
                                                       &ok), &ok), r, &ok)};
    bptt__arena a;
    bptt__arena_layout(&a, A_N, bytes, &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "h = %zu, B = %zu does not fit",
                          h, B);
    unsigned char *base;
    CHECK(bptt__arena_alloc(fn, &a, &base));
    X(tbptt) *t = (X(tbptt) *)base;
    memset(t, 0, sizeof *t);
    *t = (X(tbptt)){.net = net, .h = h, .hp = hp, .B = B,
                    .Xw = bptt__arena_at(base, &a, A_XW),
                    .Xh = bptt__arena_at(base, &a, A_XH),
                    .Y = bptt__arena_at(base, &a, A_Y),
                    .Yh = bptt__arena_at(base, &a, A_YH),
                    .DY = bptt__arena_at(base, &a, A_DY),
                    .ys = bptt__arena_at(base, &a, A_YS),
                    .nout = nout,
                    .head = bptt__arena_at(base, &a, A_HEAD)};
    bptt_status st = X(workspace_init)(net, h, B, bptt__arena_at(base, &a, A_WS),
                                       wsb, &t->ws);
    if (st != BPTT_OK) {
        free(base);
        return st;
    }
    memset(t->ys, 0, B * net->dout * r);
    *tb = t;
    return BPTT_OK;
}

bptt_status X(tbptt_alloc)(const bptt_net *net, size_t h, size_t hp, size_t B,
                           X(tbptt) **tb)
{
    return alloc(PREFIX "tbptt_alloc", net, 0, h, hp, B, tb);
}

bptt_status X(tbptt_elman_alloc)(const bptt_elman *el, size_t h, size_t hp,
                                 size_t B, X(tbptt) **tb)
{
    static const char fn[] = PREFIX "tbptt_elman_alloc";
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    /* The stream runs the vanilla core's calls on its window; a gated
     * core (whose state is h and, for the LSTM, c) would silently run as
     * tanh units on the wrong shapes of W. */
    if (el->cell != BPTT_CELL_VANILLA)
        return bptt__fail(BPTT_EINVAL, fn, "el has a %s core; truncated BPTT "
                          "streams need the vanilla core",
                          bptt_cell_name(el->cell));
    return alloc(fn, el->net, el->nout, h, hp, B, tb);
}

void X(tbptt_free)(X(tbptt) *tb)
{
    if (tb) {
        X(workspace_free)(tb->ws);
        free(tb);
    }
}

bptt_status X(tbptt_reset)(X(tbptt) *tb, const R *y0, size_t ldy0)
{
    static const char fn[] = PREFIX "tbptt_reset";
    if (!tb)
        return bptt__fail(BPTT_ENULL, fn, "tb is NULL");
    const size_t dout = tb->net->dout;
    CHECK(XI(check_arg)(fn, "y0", y0, 0, tb->B, dout, ldy0));
    for (size_t bb = 0; bb < tb->B; bb++)
        if (y0)
            memcpy(tb->ys + bb * dout, y0 + bb * ldy0, dout * sizeof(R));
        else
            memset(tb->ys + bb * dout, 0, dout * sizeof(R));
    tb->len = 0;
    tb->pos = 0;
    return BPTT_OK;
}

/* bptt_tbptt_step for the public call fn: the inputs x (ld ldx) or, if x
 * is NULL, the ids tokens. */
static bptt_status step(const char *fn, X(tbptt) *tb, size_t n, const R *W,
                        size_t ldw, const R *b, const R *x, size_t ldx,
                        const int32_t *tokens, X(dy_fn) dyfn, void *ctx,
                        R beta, R *dW, size_t lddw, R *db, R *y, size_t ldy,
                        double *loss)
{
    if (!tb)
        return bptt__fail(BPTT_ENULL, fn, "tb is NULL");
    if (n == 0)
        return bptt__fail(BPTT_ESIZE, fn, "n must be > 0");
    if (n > tb->hp)
        return bptt__fail(BPTT_ECAPACITY, fn, "n (%zu) exceeds h' (%zu)", n,
                          tb->hp);
    const bptt_net *net = tb->net;
    const size_t din = net->din, dout = net->dout, m = net->m, B = tb->B;
    CHECK(XI(check_arg)(fn, "W", W, 1, dout, m, ldw));
    if (x || !tokens)
        CHECK(XI(check_arg)(fn, "x", x, 1, n * B, din, ldx));
    else
        CHECK(bptt__check_tokens(fn, tokens, n, B, din));
    /* The window's older steps come from the history: of one kind. */
    if (tb->len > 0 && tb->tokens != !x)
        return bptt__fail(BPTT_EINVAL, fn, "the stream's history holds %s: "
                          "bptt_tbptt_reset starts a new stream",
                          tb->tokens ? "token ids" : "dense inputs");
    if (!dyfn)
        return bptt__fail(BPTT_ENULL, fn, "dyfn is NULL");
    CHECK(XI(check_arg)(fn, "dW", dW, 0, dout, m, lddw));
    CHECK(XI(check_arg)(fn, "y", y, 0, n * B, dout, ldy));
    if (!isfinite(beta))
        return bptt__fail(BPTT_EINVAL, fn, "beta is not finite");

    /* The window: the last k = w - n steps of the history, then the new. */
    const size_t w = tb->len + n < tb->h ? tb->len + n : tb->h, k = w - n;
    const size_t skip = tb->len - k; /* history steps that fall out */
    const R *start = skip == 0 ? tb->ys : tb->Yh + (skip - 1) * B * dout;
    if (x) {
        memcpy(tb->Xw, tb->Xh + skip * B * din, k * B * din * sizeof(R));
        for (size_t i = 0; i < n * B; i++)
            memcpy(tb->Xw + (k * B + i) * din, x + i * ldx, din * sizeof(R));
        CHECK(X(forward)(net, w, B, W, ldw, b, tb->Xw, din, start, dout,
                         tb->Y, dout, BPTT_ALGO_AUTO, tb->ws));
    } else { /* ids, B per step, in the input arrays (4 <= din·r bytes) */
        int32_t *iw = (int32_t *)(void *)tb->Xw;
        const int32_t *ih = (const int32_t *)(void *)tb->Xh;
        memcpy(iw, ih + skip * B, k * B * sizeof *iw);
        memcpy(iw + k * B, tokens, n * B * sizeof *iw);
        CHECK(X(forward_tokens)(net, w, B, W, ldw, b, iw, start, dout, tb->Y,
                                dout, BPTT_ALGO_AUTO, tb->ws));
    }
    double l = 0;
    memset(tb->DY, 0, k * B * dout * sizeof(R));
    bptt_status st = dyfn(ctx, tb->pos, n, B, tb->Y + k * B * dout, dout,
                          tb->DY + k * B * dout, dout, &l);
    if (st != BPTT_OK)
        return bptt__fail(st, fn, "the dy callback returned status %d for "
                          "steps %zu..%zu", (int)st, tb->pos, tb->pos + n - 1);
    if ((dW || db) && x)
        CHECK(X(backward)(net, w, B, W, ldw, tb->DY, dout, beta, dW, lddw, db,
                          NULL, 0, NULL, 0, BPTT_ALGO_AUTO, tb->ws));
    else if (dW || db)
        CHECK(X(backward_tokens)(net, w, B, W, ldw, tb->DY, dout, beta, dW,
                                 lddw, db, NULL, 0, BPTT_ALGO_AUTO, tb->ws));

    /* Commit: the window becomes the history. */
    if (skip > 0)
        memcpy(tb->ys, start, B * dout * sizeof(R));
    R *t;
    t = tb->Xh, tb->Xh = tb->Xw, tb->Xw = t;
    t = tb->Yh, tb->Yh = tb->Y, tb->Y = t;
    tb->len = w;
    tb->pos += n;
    tb->tokens = !x;
    for (size_t i = 0; y && i < n * B; i++)
        memcpy(y + i * ldy, tb->Yh + (k * B + i) * dout, dout * sizeof(R));
    if (loss)
        *loss = l;
    return BPTT_OK;
}

bptt_status X(tbptt_step)(X(tbptt) *tb, size_t n, const R *W, size_t ldw,
                          const R *b, const R *x, size_t ldx, X(dy_fn) dyfn,
                          void *ctx, R beta, R *dW, size_t lddw, R *db, R *y,
                          size_t ldy, double *loss)
{
    return step(PREFIX "tbptt_step", tb, n, W, ldw, b, x, ldx, NULL, dyfn, ctx,
                beta, dW, lddw, db, y, ldy, loss);
}

/* bptt_tbptt_elman_step for the public call fn: x (ld ldx) or, if x is
 * NULL, the ids tokens. */
static bptt_status elman_step(const char *fn, X(tbptt) *tb,
                              const bptt_elman *el, size_t n, const R *W,
                              size_t ldw, const R *bh, const R *Wo,
                              size_t ldwo, const R *bo, const R *x, size_t ldx,
                              const int32_t *tokens, const int *labels,
                              const R *L, size_t ldl, R beta, R *dW,
                              size_t lddw, R *dbh, R *dWo, size_t lddwo,
                              R *dbo, R *h, size_t ldh, double *E)
{
    if (!tb)
        return bptt__fail(BPTT_ENULL, fn, "tb is NULL");
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    if (el->net != tb->net || el->nout != tb->nout)
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "tb was made for another descriptor");
    if (n == 0 || n > tb->hp)
        return bptt__fail(n ? BPTT_ECAPACITY : BPTT_ESIZE, fn,
                          "n (%zu) is not in 1..h' (%zu)", n, tb->hp);
    const size_t nout = el->nout, dh = tb->net->dout;
    CHECK(XI(check_arg)(fn, "Wo", Wo, 1, nout, dh, ldwo));
    CHECK(XI(check_arg)(fn, "dWo", dWo, 0, nout, dh, lddwo));
    CHECK(XI(head_check_targets)(fn, el, n * tb->B, labels, L, ldl));
    if (!isfinite(beta))
        return bptt__fail(BPTT_EINVAL, fn, "beta is not finite");
    /* Network B's head as the loss callback on the n new rows, whose
     * targets are the call's (step tb->pos is their row 0); ȳ, dȳ and the
     * dWo, dbo accumulators in the state's head arrays */
    R *Yh = tb->head, *dYbar = Yh + tb->hp * tb->B * nout;
    XI(head_loss) c = {.el = el, .Wo = Wo, .bo = bo, .L = L, .ldwo = ldwo,
                       .ldl = ldl, .t_base = tb->pos, .labels = labels,
                       .Y = Yh, .dYbar = dYbar,
                       .acc = dYbar + tb->hp * tb->B * nout};
    memset(c.acc, 0, nout * (dh + 1) * sizeof(R));
    CHECK(step(fn, tb, n, W, ldw, bh, x, ldx, tokens, XI(head_dy), &c, beta,
               dW, lddw, dbh, h, ldh, E));
    XI(head_deliver)(nout, dh, beta, c.acc, dWo, lddwo, dbo);
    return BPTT_OK;
}

bptt_status X(tbptt_elman_step)(X(tbptt) *tb, const bptt_elman *el, size_t n,
                                const R *W, size_t ldw, const R *bh,
                                const R *Wo, size_t ldwo, const R *bo,
                                const R *x, size_t ldx, const int *labels,
                                const R *L, size_t ldl, R beta, R *dW,
                                size_t lddw, R *dbh, R *dWo, size_t lddwo,
                                R *dbo, R *h, size_t ldh, double *E)
{
    return elman_step(PREFIX "tbptt_elman_step", tb, el, n, W, ldw, bh, Wo,
                      ldwo, bo, x, ldx, NULL, labels, L, ldl, beta, dW, lddw,
                      dbh, dWo, lddwo, dbo, h, ldh, E);
}

/* bptt_tbptt_elman_step_tokens, bpttf_tbptt_elman_step_tokens */
bptt_status X(tbptt_elman_step_tokens)(X(tbptt) *tb, const bptt_elman *el,
                                       size_t n, const R *W, size_t ldw,
                                       const R *bh, const R *Wo, size_t ldwo,
                                       const R *bo, const int32_t *tokens,
                                       const int *labels, const R *L,
                                       size_t ldl, R beta, R *dW, size_t lddw,
                                       R *dbh, R *dWo, size_t lddwo, R *dbo,
                                       R *h, size_t ldh, double *E)
{
    static const char fn[] = PREFIX "tbptt_elman_step_tokens";
    if (tb && !tokens)
        return bptt__fail(BPTT_ENULL, fn, "tokens is NULL");
    return elman_step(fn, tb, el, n, W, ldw, bh, Wo, ldwo, bo, NULL, 0, tokens,
                      labels, L, ldl, beta, dW, lddw, dbh, dWo, lddwo, dbo, h,
                      ldh, E);
}
