/*
 * elman.c — Network B's public entry points: the Elman workspace (a Network
 * A workspace inside, or a gated cell's, plus the head's arrays) and
 * forward/backward as glue: Network A's forward and backward run the
 * recurrent core with W = [Wi | Wh] over [x_t; h_{t−1}] (docs/derivation.md
 * §9), or the LSTM's or GRU's with W = [W_ih | W_hh] (docs/gated.md);
 * head.c does the rest.  The recurrence is not written again here.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "heads/elman_impl.h"

/* ------------------------------------------------------------------------ */
/* Workspace                                                                 */
/* ------------------------------------------------------------------------ */

static_assert(sizeof(struct X(elman_workspace)) <= BPTT_ARENA_SLOT,
              "Elman workspace header exceeds its slot");

/* The arrays Y, dYbar, H, dH and the core's block in one arena; the
 * formula at bptt_elman_workspace_size.  *core: the core's bytes. */
enum { A_Y, A_DYBAR, A_H, A_DH, A_CORE, A_N };

static bptt_status layout(const char *fn, const bptt_elman *el, size_t Tmax,
                          size_t Bmax, bptt__arena *a, size_t *core)
{
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    if (Tmax == 0 || Bmax == 0)
        return bptt__fail(BPTT_ESIZE, fn, "Tmax (%zu) and Bmax (%zu) must be > 0",
                          Tmax, Bmax);
    const bptt_status cs =
        el->cell == BPTT_CELL_VANILLA
            ? X(workspace_size)(el->net, Tmax, Bmax, core)
            : X(gated_workspace_size)(el->cell, el->net->din, el->net->dout,
                                      Tmax, Bmax, core);
    if (cs != BPTT_OK)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "Tmax (%zu) x Bmax (%zu) workspace does not fit",
                          Tmax, Bmax);
    int ok = 1;
    const size_t rows = Tmax * Bmax; /* fits: the core's size checked it */
    const size_t y = bptt__mul(bptt__mul(rows, el->nout, &ok), sizeof(R), &ok);
    const size_t h = bptt__mul(bptt__mul(rows, el->net->dout, &ok), sizeof(R), &ok);
    const size_t bytes[A_N] = {y, y, h, h, *core};
    bptt__arena_layout(a, A_N, bytes, &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "Tmax (%zu) x Bmax (%zu) workspace does not fit",
                          Tmax, Bmax);
    return BPTT_OK;
}

bptt_status X(elman_workspace_size)(const bptt_elman *el, size_t Tmax,
                                    size_t Bmax, size_t *bytes)
{
    static const char fn[] = PREFIX "elman_workspace_size";
    bptt__arena a;
    size_t core = 0;
    if (!bytes)
        return bptt__fail(BPTT_ENULL, fn, "bytes is NULL");
    CHECK(layout(fn, el, Tmax, Bmax, &a, &core));
    *bytes = a.total;
    return BPTT_OK;
}

static X(elman_workspace) *place(const bptt_elman *el, size_t Tmax,
                                 size_t Bmax, const bptt__arena *a, size_t core,
                                 unsigned char *base, int owned)
{
    X(elman_workspace) *ws = (X(elman_workspace) *)base;
    memset(ws, 0, sizeof *ws);
    ws->el = el;
    ws->gen = el->gen;
    atomic_init(&ws->busy, 0);
    ws->Tmax = Tmax;
    ws->Bmax = Bmax;
    ws->Y = bptt__arena_at(base, a, A_Y);
    ws->dYbar = bptt__arena_at(base, a, A_DYBAR);
    ws->H = bptt__arena_at(base, a, A_H);
    ws->dH = bptt__arena_at(base, a, A_DH);
    ws->owned = owned;
    /* Cannot fail: layout() sized the block with the same query. */
    if (el->cell == BPTT_CELL_VANILLA)
        X(workspace_init)(el->net, Tmax, Bmax, bptt__arena_at(base, a, A_CORE),
                          core, &ws->core);
    else
        X(gated_workspace_init)(el->cell, el->net->din, el->net->dout, Tmax,
                                Bmax, bptt__arena_at(base, a, A_CORE), core,
                                &ws->gcore);
    return ws;
}

bptt_status X(elman_workspace_alloc)(const bptt_elman *el, size_t Tmax,
                                     size_t Bmax, X(elman_workspace) **ws)
{
    static const char fn[] = PREFIX "elman_workspace_alloc";
    bptt__arena a;
    size_t core = 0;
    unsigned char *base;
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    CHECK(layout(fn, el, Tmax, Bmax, &a, &core));
    CHECK(bptt__arena_alloc(fn, &a, &base));
    *ws = place(el, Tmax, Bmax, &a, core, base, 1);
    return BPTT_OK;
}

bptt_status X(elman_workspace_init)(const bptt_elman *el, size_t Tmax,
                                    size_t Bmax, void *buf, size_t bytes,
                                    X(elman_workspace) **ws)
{
    static const char fn[] = PREFIX "elman_workspace_init";
    bptt__arena a;
    size_t core = 0;
    unsigned char *base;
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (!buf)
        return bptt__fail(BPTT_ENULL, fn, "buf is NULL");
    CHECK(layout(fn, el, Tmax, Bmax, &a, &core));
    CHECK(bptt__arena_init(fn, &a, buf, bytes, &base));
    *ws = place(el, Tmax, Bmax, &a, core, base, 0);
    return BPTT_OK;
}

void X(elman_workspace_free)(X(elman_workspace) *ws)
{
    if (!ws)
        return;
    X(workspace_free)(ws->core); /* its threads; its memory is ours */
    X(gated_workspace_free)(ws->gcore);
    /* alloc placed the struct at the start of its 64-aligned block. */
    if (ws->owned)
        free(ws);
}

bptt_status X(elman_workspace_set_threads)(X(elman_workspace) *ws,
                                           int nthreads)
{
    static const char fn[] = PREFIX "elman_workspace_set_threads";
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    /* The head's products use the core's pool too: hold the Elman flag. */
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = ws->core ? X(workspace_set_threads)(ws->core, nthreads)
                              : X(gated_workspace_set_threads)(ws->gcore,
                                                               nthreads);
    bptt__leave(&ws->busy);
    return st;
}

bptt_status X(elman_workspace_set_grad_hook)(X(elman_workspace) *ws,
                                             const bptt_grad_hook *hook)
{
    static const char fn[] = PREFIX "elman_workspace_set_grad_hook";
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (hook && !hook->ready)
        return bptt__fail(BPTT_EINVAL, fn, "hook->ready is NULL");
    ws->hook = hook;
    if (ws->core) /* Network A's core reports the panels of dW */
        ws->core->hook = hook;
    return BPTT_OK;
}

int X(elman_workspace_threads)(const X(elman_workspace) *ws)
{
    if (!ws)
        return 0;
    return ws->core ? X(workspace_threads)(ws->core)
                    : X(gated_workspace_threads)(ws->gcore);
}

/* ------------------------------------------------------------------------ */
/* Forward and backward                                                      */
/* ------------------------------------------------------------------------ */

/* Everything Network A's check_call would refuse, checked first, so that
 * once the core is called nothing can fail half-way. */
static bptt_status check_call(const char *fn, const bptt_elman *el, size_t T,
                              size_t B, bptt_algo algo,
                              const X(elman_workspace) *ws)
{
    if (!el)
        return bptt__fail(BPTT_ENULL, fn, "el is NULL");
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (ws->el != el)
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "ws was made for another Elman descriptor");
    if (ws->gen != el->gen || (ws->core && ws->core->gen != el->net->gen))
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "ws was made for a freed descriptor whose address "
                          "%s now reuses",
                          ws->gen != el->gen ? "el" : "el's core");
    CHECK(bptt__check_shape(fn, T, B, ws->Tmax, ws->Bmax, algo));
    if (el->cell != BPTT_CELL_VANILLA && algo == BPTT_ALGO_GEMV_GER)
        return bptt__fail(BPTT_EALGO, fn, "algo = gemv-ger: the %s cell runs "
                          "naive or deferred", bptt_cell_name(el->cell));
    return BPTT_OK;
}

static void copy_rows(size_t rows, size_t cols, const R *src, R *dst,
                      size_t ld)
{
    for (size_t k = 0; k < rows; k++)
        memcpy(dst + k * ld, src + k * cols, cols * sizeof(R));
}

/* forward once ws is held (check_call passed): x (ld ldx) or, if x is
 * NULL, the ids tokens. */
static bptt_status forward(const char *fn, const bptt_elman *el, size_t T,
                           size_t B, const R *W, size_t ldw, const R *bh,
                           const R *Wo, size_t ldwo, const R *bo, const R *x,
                           size_t ldx, const int32_t *tokens, const R *h0,
                           size_t ldh0,
                           const int *labels, const R *L, size_t ldl,
                           double *E, R *h, size_t ldh, R *y, size_t ldy,
                           bptt_algo algo, X(elman_workspace) *ws)
{
    const bptt_net *net = el->net;
    const size_t din = net->din, dh = net->dout, nout = el->nout, TB = T * B;
    CHECK(XI(check_arg)(fn, "W", W, 1, el->G * dh, net->m, ldw));
    CHECK(XI(check_arg)(fn, "Wo", Wo, 1, nout, dh, ldwo));
    if (x || !tokens)
        CHECK(XI(check_arg)(fn, "x", x, 1, TB, din, ldx));
    CHECK(XI(check_arg)(fn, "h0", h0, 0, B, dh, ldh0));
    CHECK(XI(check_arg)(fn, "h", h, 0, TB, dh, ldh));
    CHECK(XI(check_arg)(fn, "y", y, 0, TB, nout, ldy));
    if (E)
        CHECK(XI(head_check_targets)(fn, el, TB, labels, L, ldl));
    /* bh is G·dh wide for a gated core; the gated core's options
     * (elman_gated.c) join the regions: NULL for the vanilla core. */
    const size_t Gdh = el->G * dh;
    const bptt__region out[] = {RREG("h", h, TB, dh, ldh),
                                RREG("y", y, TB, nout, ldy),
                                {"E", E, 1, 1, 1, sizeof(double)},
                                RREG("cT", ws->cT, B, dh, ws->ldcT)};
    /* The targets are read only when E is asked for. */
    const bptt__region in[] = {
        RREG("W", W, Gdh, net->m, ldw), RREG("bh", bh, 1, Gdh, Gdh),
        RREG("Wo", Wo, nout, dh, ldwo), RREG("bo", bo, 1, nout, nout),
        RREG("x", x, TB, din, ldx), RREG("h0", h0, B, dh, ldh0),
        {"labels", E ? labels : NULL, 1, TB, TB, sizeof(int)},
        RREG("L", E ? L : NULL, TB, nout, ldl),
        RREG("bhh", ws->bhh, 1, Gdh, Gdh), RREG("c0", ws->c0, B, dh, ws->ldc0),
        {"tokens", x ? NULL : tokens, 1, TB, TB, sizeof(int32_t)}};
    CHECK(bptt__check_overlap(fn, out, 4, in, 11));
    if (!x) /* every id before anything is written, named by our fn */
        CHECK(bptt__check_tokens(fn, tokens, T, B, din));
    CHECK(XI(elman_finite_inputs)(fn, ws, NULL, 0, Wo, ldwo, bo));

    /* The core: h̄_t = [Wi | Wh] [x_t; h_{t−1}] + bh, h_t = f1(h̄_t) — Network
     * A's forward, its outputs y(t+1) being our h_t. */
    if (!x && ws->core) /* tokens: the core gathers W_x's columns (T1) */
        CHECK(X(forward_tokens)(net, T, B, W, ldw, bh, tokens, h0, ldh0,
                                ws->H, dh, algo, ws->core));
    else if (!x) /* tokens on a gated core: their one-hot rows staged */
        CHECK(XI(gated_forward_tokens)(fn, T, B, W, ldw, W + din, ldw, bh,
                                       ws->bhh, tokens, h0, ldh0, ws->c0,
                                       ws->ldc0, ws->H, dh, ws->cT, ws->ldcT,
                                       algo, ws->gcore));
    else if (ws->core)
        CHECK(X(forward)(net, T, B, W, ldw, bh, x, ldx, h0, ldh0, ws->H, dh,
                         algo, ws->core));
    else /* the gated core: W = [W_ih | W_hh], bh its input-side bias,
          * b_hh, c(0) and c(T) as set on ws (docs/gated.md, "Network B") */
        CHECK(X(gated_forward)(T, B, W, ldw, W + din, ldw, bh, ws->bhh, x,
                               ldx, h0, ldh0, ws->c0, ws->ldc0, ws->H, dh,
                               ws->cT, ws->ldcT, algo, ws->gcore));
    XI(head_forward)(el, TB, Wo, ldwo, bo, ws->H, labels, L, ldl,
                     algo == BPTT_ALGO_NAIVE, ws->Y, E);
    if (h)
        copy_rows(TB, dh, ws->H, h, ldh);
    if (y)
        copy_rows(TB, nout, ws->Y, y, ldy);
    ws->fwd_T = T;
    ws->fwd_B = B;
    return BPTT_OK;
}

bptt_status X(elman_forward)(const bptt_elman *el, size_t T, size_t B,
                             const R *W, size_t ldw, const R *bh, const R *Wo,
                             size_t ldwo, const R *bo, const R *x, size_t ldx,
                             const R *h0, size_t ldh0, const int *labels,
                             const R *L, size_t ldl, double *E, R *h,
                             size_t ldh, R *y, size_t ldy, bptt_algo algo,
                             X(elman_workspace) *ws)
{
    static const char fn[] = PREFIX "elman_forward";
    CHECK(check_call(fn, el, T, B, algo, ws));
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = forward(fn, el, T, B, W, ldw, bh, Wo, ldwo, bo, x, ldx,
                             NULL, h0, ldh0, labels, L, ldl, E, h, ldh, y, ldy,
                             algo, ws);
    bptt__leave(&ws->busy);
    return st;
}

/* bptt_elman_forward_tokens, bpttf_elman_forward_tokens */
bptt_status X(elman_forward_tokens)(const bptt_elman *el, size_t T, size_t B,
                                    const R *W, size_t ldw, const R *bh,
                                    const R *Wo, size_t ldwo, const R *bo,
                                    const int32_t *tokens, const R *h0,
                                    size_t ldh0, const int *labels,
                                    const R *L, size_t ldl, double *E, R *h,
                                    size_t ldh, R *y, size_t ldy,
                                    bptt_algo algo, X(elman_workspace) *ws)
{
    static const char fn[] = PREFIX "elman_forward_tokens";
    CHECK(check_call(fn, el, T, B, algo, ws));
    if (!tokens)
        return bptt__fail(BPTT_ENULL, fn, "tokens is NULL");
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = forward(fn, el, T, B, W, ldw, bh, Wo, ldwo, bo, NULL, 0,
                             tokens, h0, ldh0, labels, L, ldl, E, h, ldh, y,
                             ldy, algo, ws);
    bptt__leave(&ws->busy);
    return st;
}

/* backward once ws is held (check_call passed); tokens: the token
 * backward (dx NULL), for a token forward. */
static bptt_status backward(const char *fn, const bptt_elman *el, size_t T,
                            size_t B, const R *W, size_t ldw, const R *Wo,
                            size_t ldwo, const int *labels, const R *L,
                            size_t ldl, R beta, R *dW, size_t lddw, R *dbh,
                            R *dWo, size_t lddwo, R *dbo, R *dx, size_t lddx,
                            R *dh0, size_t lddh0, int tokens, bptt_algo algo,
                            X(elman_workspace) *ws)
{
    const bptt_net *net = el->net;
    const size_t din = net->din, dh = net->dout, nout = el->nout, TB = T * B;
    CHECK(XI(check_arg)(fn, "W", W, 1, el->G * dh, net->m, ldw));
    CHECK(XI(check_arg)(fn, "Wo", Wo, 1, nout, dh, ldwo));
    CHECK(XI(check_arg)(fn, "dW", dW, 1, el->G * dh, net->m, lddw));
    CHECK(XI(check_arg)(fn, "dWo", dWo, 1, nout, dh, lddwo));
    CHECK(XI(check_arg)(fn, "dx", dx, 0, TB, din, lddx));
    CHECK(XI(check_arg)(fn, "dh0", dh0, 0, B, dh, lddh0));
    if (ws->fwd_T == 0)
        return bptt__fail(BPTT_ENOFORWARD, fn, "no forward in the workspace");
    if (ws->fwd_T != T || ws->fwd_B != B)
        return bptt__fail(BPTT_ENOFORWARD, fn,
                          "the workspace's forward had T = %zu, B = %zu, not "
                          "T = %zu, B = %zu", ws->fwd_T, ws->fwd_B, T, B);
    /* The core would refuse a backward of the other kind too, but only
     * after the head has written dWo and dbo. */
    if (tokens != (ws->core ? ws->core->fwd_tokens : ws->gcore->fwd_tokens))
        return bptt__fail(BPTT_ENOFORWARD, fn,
                          tokens ? "the workspace's forward took a dense x: "
                                   "its backward is " PREFIX "elman_backward"
                                 : "the workspace's forward took token ids: "
                                   "its backward is " PREFIX
                                   "elman_backward_tokens");
    CHECK(XI(head_check_targets)(fn, el, TB, labels, L, ldl));
    const size_t Gdh = el->G * dh; /* dbh's width: G·dh for a gated core */
    const bptt__region out[] = {
        RREG("dW", dW, Gdh, net->m, lddw), RREG("dbh", dbh, 1, Gdh, Gdh),
        RREG("dWo", dWo, nout, dh, lddwo), RREG("dbo", dbo, 1, nout, nout),
        RREG("dx", dx, TB, din, lddx), RREG("dh0", dh0, B, dh, lddh0),
        RREG("dbhh", ws->dbhh, 1, Gdh, Gdh),
        RREG("dc0", ws->dc0, B, dh, ws->lddc0)};
    const bptt__region in[] = {RREG("W", W, Gdh, net->m, ldw),
                               RREG("Wo", Wo, nout, dh, ldwo),
                               {"labels", labels, 1, TB, TB, sizeof(int)},
                               RREG("L", L, TB, nout, ldl)};
    CHECK(bptt__check_overlap(fn, out, 8, in, 4));
    /* Network A's backward would refuse it too, but only after the head
     * has scaled dWo and dbo by it. */
    if (!isfinite(beta))
        return bptt__fail(BPTT_EINVAL, fn, "beta is not finite");

    CHECK(XI(elman_finite_inputs)(fn, ws, W, ldw, Wo, ldwo, NULL));

    /* The head: ∂E/∂ȳ, dWo, dbo, and dL/dh_t = Woᵀ ∂E/∂ȳ_t in ws->dH. */
    XI(scale)(nout, dh, beta, dWo, lddwo);
    if (dbo)
        XI(scale)(1, nout, beta, dbo, nout);
    XI(head_backward)(el, TB, Wo, ldwo, ws->H, ws->Y, labels, L, ldl,
                      algo == BPTT_ALGO_NAIVE, ws->dYbar, dWo, lddwo, dbo,
                      ws->dH);
    if (ws->hook) /* dWo and dbo are final (bptt/hook.h) */
        ws->hook->ready(ws->hook->user, BPTT_GRAD_WO, 0, nout);
    /* The core: Network A's backward with dL/dy(t) = dL/dh_t gives
     * ∂E/∂h_t = Woᵀ(y_t − l_t) + Whᵀ ∂E/∂h̄_{t+1}, ∂E/∂h̄_t = ∂E/∂h_t ⊙ f1'(h̄_t)
     * and dW = [dWi | dWh], dbh, dx, dh0 (docs/derivation.md §9,
     * eqs. (B6)-(B8)). */
    if (tokens && ws->core) /* dW_x as the scatter-add (T2) */
        CHECK(X(backward_tokens)(net, T, B, W, ldw, ws->dH, dh, beta, dW,
                                 lddw, dbh, dh0, lddh0, algo, ws->core));
    else if (ws->core)
        CHECK(X(backward)(net, T, B, W, ldw, ws->dH, dh, beta, dW, lddw, dbh,
                          dx, lddx, dh0, lddh0, algo, ws->core));
    else /* the gated core (docs/gated.md): dW = [dW_ih | dW_hh], dbh = dbx,
          * and b_hh's and c(0)'s gradients as set on ws; the loss is the
          * head's alone, so dL/dc(T) is 0; after tokens, dx is NULL */
        CHECK(X(gated_backward)(T, B, W, ldw, W + din, ldw, ws->dH, dh, NULL,
                                0, beta, dW, lddw, dW + din, lddw, dbh,
                                ws->dbhh, dx, lddx, dh0, lddh0, ws->dc0,
                                ws->lddc0, algo, ws->gcore));
    return XI(elman_finite_results)(fn, ws, TB, NULL, dWo, lddwo, dbo);
}

bptt_status X(elman_backward)(const bptt_elman *el, size_t T, size_t B,
                              const R *W, size_t ldw, const R *Wo, size_t ldwo,
                              const int *labels, const R *L, size_t ldl,
                              R beta, R *dW, size_t lddw, R *dbh, R *dWo,
                              size_t lddwo, R *dbo, R *dx, size_t lddx,
                              R *dh0, size_t lddh0, bptt_algo algo,
                              X(elman_workspace) *ws)
{
    static const char fn[] = PREFIX "elman_backward";
    CHECK(check_call(fn, el, T, B, algo, ws));
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = backward(fn, el, T, B, W, ldw, Wo, ldwo, labels, L, ldl,
                              beta, dW, lddw, dbh, dWo, lddwo, dbo, dx, lddx,
                              dh0, lddh0, 0, algo, ws);
    bptt__leave(&ws->busy);
    return st;
}

/* bptt_elman_backward_tokens, bpttf_elman_backward_tokens */
bptt_status X(elman_backward_tokens)(const bptt_elman *el, size_t T, size_t B,
                                     const R *W, size_t ldw, const R *Wo,
                                     size_t ldwo, const int *labels,
                                     const R *L, size_t ldl, R beta, R *dW,
                                     size_t lddw, R *dbh, R *dWo, size_t lddwo,
                                     R *dbo, R *dh0, size_t lddh0,
                                     bptt_algo algo, X(elman_workspace) *ws)
{
    static const char fn[] = PREFIX "elman_backward_tokens";
    CHECK(check_call(fn, el, T, B, algo, ws));
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = backward(fn, el, T, B, W, ldw, Wo, ldwo, labels, L, ldl,
                              beta, dW, lddw, dbh, dWo, lddwo, dbo, NULL, 0,
                              dh0, lddh0, 1, algo, ws);
    bptt__leave(&ws->busy);
    return st;
}
