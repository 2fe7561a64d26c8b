/*
 * workspace.c — the size query and the placement of a workspace's arrays in
 * one block (an arena), owned by the library (alloc) or by the caller
 * (init); the workspace's threads.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cells/vanilla/core.h"

static_assert(sizeof(struct X(workspace)) <= BPTT_ARENA_SLOT,
              "workspace header exceeds its slot");

/* The arrays S, D, Delta, P, G in one arena; the formula documented at
 * bptt_workspace_size. */
enum { A_S, A_D, A_DELTA, A_P, A_G, A_N };

static bptt_status layout(const char *fn, const bptt_net *net, size_t Tmax,
                          size_t Bmax, bptt__arena *a)
{
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (Tmax == 0 || Bmax == 0)
        return bptt__fail(BPTT_ESIZE, fn, "Tmax (%zu) and Bmax (%zu) must be > 0",
                          Tmax, Bmax);
    int ok = 1;
    const size_t r = sizeof(R), rows = bptt__mul(Tmax, Bmax, &ok);
    /* P: dout rows of the panels covering dout columns at the widest
     * panel width (a multiple of 64 bytes). */
    const size_t nrmax = BPTT_PANEL_BYTES / sizeof(R);
    /* G: kc rows of the panels covering m columns and dout rows of kc
     * (dL/dW's transposed operand), kc the GEMMs' largest K (din, dout or
     * T·B) up to BPTT_GEMM_KC. */
    size_t kc = net->din > net->dout ? net->din : net->dout;
    kc = rows > kc ? rows : kc;
    kc = kc < BPTT_GEMM_KC ? kc : BPTT_GEMM_KC;
    const size_t bytes[A_N] = {
        [A_S] = bptt__mul(bptt__mul(rows, net->m, &ok), r, &ok),
        [A_D] = bptt__mul(bptt__mul(rows, net->dout, &ok), r, &ok),
        [A_DELTA] = bptt__mul(bptt__mul(rows, net->dout, &ok), r, &ok),
        [A_P] = bptt__mul(bptt__mul(net->dout,
                                    XI(rec_panels)(net->dout, nrmax) * nrmax,
                                    &ok), r, &ok),
        [A_G] = bptt__mul(bptt__mul(kc, XI(rec_panels)(net->m, nrmax) * nrmax +
                                            net->dout, &ok), r, &ok),
    };
    bptt__arena_layout(a, A_N, bytes, &ok);
    /* T*B is a BLAS dimension of the whole-sequence products. */
    if (!ok || rows > BPTT_INT_MAX)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "Tmax (%zu) x Bmax (%zu) workspace does not fit",
                          Tmax, Bmax);
    return BPTT_OK;
}

bptt_status X(workspace_size)(const bptt_net *net, size_t Tmax, size_t Bmax,
                              size_t *bytes)
{
    static const char fn[] = PREFIX "workspace_size";
    bptt__arena a;
    if (!bytes)
        return bptt__fail(BPTT_ENULL, fn, "bytes is NULL");
    CHECK(layout(fn, net, Tmax, Bmax, &a));
    *bytes = a.total;
    return BPTT_OK;
}

static struct X(workspace) *place(const bptt_net *net, size_t Tmax, size_t Bmax,
                                  const bptt__arena *a, unsigned char *base,
                                  int owned)
{
    struct X(workspace) *ws = (struct X(workspace) *)base;
    memset(ws, 0, sizeof *ws);
    ws->net = net;
    ws->gen = net->gen;
    atomic_init(&ws->busy, 0);
    ws->Tmax = Tmax;
    ws->Bmax = Bmax;
    ws->S = bptt__arena_at(base, a, A_S);
    ws->D = bptt__arena_at(base, a, A_D);
    ws->Delta = bptt__arena_at(base, a, A_DELTA);
    ws->P = bptt__arena_at(base, a, A_P);
    ws->G = bptt__arena_at(base, a, A_G);
    ws->owned = owned;
    return ws;
}

bptt_status X(workspace_alloc)(const bptt_net *net, size_t Tmax, size_t Bmax,
                               X(workspace) **ws)
{
    static const char fn[] = PREFIX "workspace_alloc";
    bptt__arena a;
    unsigned char *base;
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    CHECK(layout(fn, net, Tmax, Bmax, &a));
    CHECK(bptt__arena_alloc(fn, &a, &base));
    *ws = place(net, Tmax, Bmax, &a, base, 1);
    return BPTT_OK;
}

bptt_status X(workspace_init)(const bptt_net *net, size_t Tmax, size_t Bmax,
                              void *buf, size_t bytes, X(workspace) **ws)
{
    static const char fn[] = PREFIX "workspace_init";
    bptt__arena a;
    unsigned char *base;
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (!buf)
        return bptt__fail(BPTT_ENULL, fn, "buf is NULL");
    CHECK(layout(fn, net, Tmax, Bmax, &a));
    CHECK(bptt__arena_init(fn, &a, buf, bytes, &base));
    *ws = place(net, Tmax, Bmax, &a, base, 0);
    return BPTT_OK;
}

void X(workspace_free)(X(workspace) *ws)
{
    if (!ws)
        return;
    bptt__pool_destroy(ws->pool);
    ws->pool = NULL;
    /* alloc placed the struct at the start of its 64-aligned block. */
    if (ws->owned)
        free(ws);
}

bptt_status X(workspace_set_threads)(X(workspace) *ws, int nthreads)
{
    static const char fn[] = PREFIX "workspace_set_threads";
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    /* A call running on ws uses its pool: never swap it under one. */
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = bptt__pool_set(fn, &ws->pool, nthreads);
    bptt__leave(&ws->busy);
    return st;
}

bptt_status X(workspace_set_grad_hook)(X(workspace) *ws,
                                       const bptt_grad_hook *hook)
{
    static const char fn[] = PREFIX "workspace_set_grad_hook";
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (hook && !hook->ready)
        return bptt__fail(BPTT_EINVAL, fn, "hook->ready is NULL");
    ws->hook = hook;
    return BPTT_OK;
}

int X(workspace_threads)(const X(workspace) *ws)
{
    return ws ? bptt__pool_threads(ws->pool) : 0;
}
