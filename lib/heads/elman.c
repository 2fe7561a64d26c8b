/*
 * elman.c — Network B's public entry points: the Elman workspace (a Network
 * A workspace inside, or a gated cell's, plus the head's arrays) and
 * forward/backward as glue: Network A's forward and backward run the
 * recurrent core with W = [Wi | Wh] over [x_t; h_{t−1}], or the LSTM's or
 * GRU's with W = [W_ih | W_hh] (docs/gated.md); head.c does the rest.
 * The recurrence is not written again here.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heads/elman_impl.h"

/* ------------------------------------------------------------------------ */
/* Workspace                                                                 */
/* ------------------------------------------------------------------------ */

/* 256 header bytes: up to 63 to align a caller's buffer, the struct in the
 * next 128, the rest spare (as Network A's workspace). */
#define HEADER 256
#define STRUCT_SLOT 128
static_assert(sizeof(struct X(elman_workspace)) <= STRUCT_SLOT,
              "Elman workspace header exceeds its slot");

/* Offsets of Y, dYbar, H, dH and the core's block from the arrays' start,
 * the core's bytes and the total: the formula at bptt_elman_workspace_size. */
static bptt_status layout(const char *fn, const bptt_elman *el, size_t Tmax,
                          size_t Bmax, size_t off[5], size_t *core,
                          size_t *bytes)
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
    size_t rows = Tmax * Bmax; /* fits: the core's size checked it */
    size_t y = bptt__up64(bptt__mul(bptt__mul(rows, el->nout, &ok), sizeof(R), &ok), &ok);
    size_t h = bptt__up64(bptt__mul(bptt__mul(rows, el->net->dout, &ok), sizeof(R), &ok), &ok);
    off[0] = 0;
    off[1] = y;
    off[2] = bptt__add(off[1], y, &ok);
    off[3] = bptt__add(off[2], h, &ok);
    off[4] = bptt__add(off[3], h, &ok);
    size_t total = bptt__add(bptt__add(off[4], *core, &ok), HEADER, &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "Tmax (%zu) x Bmax (%zu) workspace does not fit",
                          Tmax, Bmax);
    *bytes = total;
    return BPTT_OK;
}

bptt_status X(elman_workspace_size)(const bptt_elman *el, size_t Tmax,
                                    size_t Bmax, size_t *bytes)
{
    static const char fn[] = PREFIX "elman_workspace_size";
    size_t off[5] = {0}, core = 0, total = 0;
    if (!bytes)
        return bptt__fail(BPTT_ENULL, fn, "bytes is NULL");
    bptt_status st = layout(fn, el, Tmax, Bmax, off, &core, &total);
    if (st == BPTT_OK)
        *bytes = total;
    return st;
}

static X(elman_workspace) *place(const bptt_elman *el, size_t Tmax,
                                 size_t Bmax, const size_t off[5], size_t core,
                                 void *buf, int owned)
{
    unsigned char *base = (unsigned char *)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
    X(elman_workspace) *ws = (X(elman_workspace) *)base;
    unsigned char *arrays = base + STRUCT_SLOT;
    memset(ws, 0, sizeof *ws);
    ws->el = el;
    ws->Tmax = Tmax;
    ws->Bmax = Bmax;
    ws->Y = (R *)(arrays + off[0]);
    ws->dYbar = (R *)(arrays + off[1]);
    ws->H = (R *)(arrays + off[2]);
    ws->dH = (R *)(arrays + off[3]);
    ws->owned = owned;
    /* Cannot fail: layout() sized the block with the same query. */
    if (el->cell == BPTT_CELL_VANILLA)
        X(workspace_init)(el->net, Tmax, Bmax, arrays + off[4], core,
                          &ws->core);
    else
        X(gated_workspace_init)(el->cell, el->net->din, el->net->dout, Tmax,
                                Bmax, arrays + off[4], core, &ws->gcore);
    return ws;
}

bptt_status X(elman_workspace_alloc)(const bptt_elman *el, size_t Tmax,
                                     size_t Bmax, X(elman_workspace) **ws)
{
    static const char fn[] = PREFIX "elman_workspace_alloc";
    size_t off[5] = {0}, core = 0, total = 0;
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    CHECK(layout(fn, el, Tmax, Bmax, off, &core, &total));
    void *buf = aligned_alloc(64, total); /* total is a multiple of 64 */
    if (!buf)
        return bptt__fail(BPTT_ENOMEM, fn, "allocating %zu bytes", total);
    *ws = place(el, Tmax, Bmax, off, core, buf, 1);
    return BPTT_OK;
}

bptt_status X(elman_workspace_init)(const bptt_elman *el, size_t Tmax,
                                    size_t Bmax, void *buf, size_t bytes,
                                    X(elman_workspace) **ws)
{
    static const char fn[] = PREFIX "elman_workspace_init";
    size_t off[5] = {0}, core = 0, total = 0;
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (!buf)
        return bptt__fail(BPTT_ENULL, fn, "buf is NULL");
    CHECK(layout(fn, el, Tmax, Bmax, off, &core, &total));
    if (bytes < total)
        return bptt__fail(BPTT_EBUFFER, fn, "bytes (%zu) < required (%zu)",
                          bytes, total);
    *ws = place(el, Tmax, Bmax, off, core, buf, 0);
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
    if (!ws)
        return bptt__fail(BPTT_ENULL, PREFIX "elman_workspace_set_threads",
                          "ws is NULL");
    return ws->core ? X(workspace_set_threads)(ws->core, nthreads)
                    : X(gated_workspace_set_threads)(ws->gcore, nthreads);
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
    const bptt_net *net = el->net;
    const size_t din = net->din, dh = net->dout, nout = el->nout, TB = T * B;
    CHECK(XI(check_arg)(fn, "W", W, 1, el->G * dh, net->m, ldw));
    CHECK(XI(check_arg)(fn, "Wo", Wo, 1, nout, dh, ldwo));
    CHECK(XI(check_arg)(fn, "x", x, 1, TB, din, ldx));
    CHECK(XI(check_arg)(fn, "h0", h0, 0, B, dh, ldh0));
    CHECK(XI(check_arg)(fn, "h", h, 0, TB, dh, ldh));
    CHECK(XI(check_arg)(fn, "y", y, 0, TB, nout, ldy));
    if (E)
        CHECK(XI(head_check_targets)(fn, el, TB, labels, L, ldl));

    /* The core: h̄_t = [Wi | Wh] [x_t; h_{t−1}] + bh, h_t = f1(h̄_t) — Network
     * A's forward, its outputs y(t+1) being our h_t. */
    if (ws->core)
        CHECK(X(forward)(net, T, B, W, ldw, bh, x, ldx, h0, ldh0, ws->H, dh,
                         algo, ws->core));
    else /* the gated core: W = [W_ih | W_hh], bh its input-side bias */
        CHECK(X(gated_forward)(T, B, W, ldw, W + din, ldw, bh, NULL, x, ldx,
                               h0, ldh0, NULL, 0, ws->H, dh, NULL, 0, algo,
                               ws->gcore));
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
    CHECK(XI(head_check_targets)(fn, el, TB, labels, L, ldl));
    /* Network A's backward would refuse it too, but only after the head
     * has scaled dWo and dbo by it. */
    if (!isfinite(beta))
        return bptt__fail(BPTT_EINVAL, fn, "beta is not finite");

    /* The head: ∂E/∂ȳ, dWo, dbo, and dL/dh_t = Woᵀ ∂E/∂ȳ_t in ws->dH. */
    XI(scale)(nout, dh, beta, dWo, lddwo);
    if (dbo)
        XI(scale)(1, nout, beta, dbo, nout);
    XI(head_backward)(el, TB, Wo, ldwo, ws->H, ws->Y, labels, L, ldl,
                      algo == BPTT_ALGO_NAIVE, ws->dYbar, dWo, lddwo, dbo,
                      ws->dH);
    /* The core: Network A's backward with dL/dy(t) = dL/dh_t gives
     * ∂E/∂h_t = Woᵀ(y_t − l_t) + Whᵀ ∂E/∂h̄_{t+1}, ∂E/∂h̄_t = ∂E/∂h_t ⊙ f1'(h̄_t)
     * and dW = [dWi | dWh], dbh, dx, dh0 (DESIGN.md §2). */
    if (ws->core)
        return X(backward)(net, T, B, W, ldw, ws->dH, dh, beta, dW, lddw, dbh,
                           dx, lddx, dh0, lddh0, algo, ws->core);
    /* The gated core (docs/gated.md): dW = [dW_ih | dW_hh], dbh = dbx. */
    return X(gated_backward)(T, B, W, ldw, W + din, ldw, ws->dH, dh, NULL, 0,
                             beta, dW, lddw, dW + din, lddw, dbh, NULL, dx,
                             lddx, dh0, lddh0, NULL, 0, algo, ws->gcore);
}
