/*
 * workspace.c — the size query and the placement of a workspace's arrays in
 * one block, owned by the library (alloc) or by the caller (init).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "cells/vanilla/core.h"

/* 256 header bytes: up to 63 to align a caller's buffer, the struct in the
 * next 128, the rest spare. */
#define HEADER 256
#define STRUCT_SLOT 128
static_assert(sizeof(struct X(workspace)) <= STRUCT_SLOT,
              "workspace header exceeds its slot");

/* Offsets of S, D, Delta, P, G from the arrays' start, and the total
 * bytes; the formula documented at bptt_workspace_size. */
static bptt_status layout(const char *fn, const bptt_net *net, size_t Tmax,
                          size_t Bmax, size_t off[5], size_t *bytes)
{
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (Tmax == 0 || Bmax == 0)
        return bptt__fail(BPTT_ESIZE, fn, "Tmax (%zu) and Bmax (%zu) must be > 0",
                          Tmax, Bmax);
    int ok = 1;
    size_t rows = bptt__mul(Tmax, Bmax, &ok);
    size_t s = bptt__up64(bptt__mul(bptt__mul(rows, net->m, &ok), sizeof(R), &ok), &ok);
    size_t d = bptt__up64(bptt__mul(bptt__mul(rows, net->dout, &ok), sizeof(R), &ok), &ok);
    /* P: dout rows of the panels covering dout columns at the widest
     * panel width (a multiple of 64 bytes). */
    const size_t nrmax = BPTT_PANEL_BYTES / sizeof(R);
    size_t c = bptt__mul(bptt__mul(net->dout, XI(rec_panels)(net->dout, nrmax) * nrmax,
                                   &ok), sizeof(R), &ok);
    /* G: kc rows of the panels covering m columns and dout rows of kc (dL/dW's
     * transposed operand), kc the GEMMs' largest K (din, dout or T·B) up
     * to BPTT_GEMM_KC. */
    size_t kc = net->din > net->dout ? net->din : net->dout;
    kc = rows > kc ? rows : kc;
    kc = kc < BPTT_GEMM_KC ? kc : BPTT_GEMM_KC;
    size_t g = bptt__up64(
        bptt__mul(bptt__mul(kc, XI(rec_panels)(net->m, nrmax) * nrmax +
                                    net->dout, &ok), sizeof(R), &ok), &ok);
    off[0] = 0;
    off[1] = s;
    off[2] = bptt__add(off[1], d, &ok);
    off[3] = bptt__add(off[2], d, &ok);
    off[4] = bptt__add(off[3], c, &ok);
    size_t total = bptt__add(bptt__add(off[4], g, &ok), HEADER, &ok);
    /* T*B is a BLAS dimension of the whole-sequence products. */
    if (!ok || rows > BPTT_INT_MAX)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "Tmax (%zu) x Bmax (%zu) workspace does not fit",
                          Tmax, Bmax);
    *bytes = total;
    return BPTT_OK;
}

bptt_status X(workspace_size)(const bptt_net *net, size_t Tmax, size_t Bmax,
                              size_t *bytes)
{
    static const char fn[] = PREFIX "workspace_size";
    size_t off[5] = {0}, total = 0;
    if (!bytes)
        return bptt__fail(BPTT_ENULL, fn, "bytes is NULL");
    bptt_status st = layout(fn, net, Tmax, Bmax, off, &total);
    if (st == BPTT_OK)
        *bytes = total;
    return st;
}

static struct X(workspace) *place(const bptt_net *net, size_t Tmax, size_t Bmax,
                                  const size_t off[5], void *buf, int owned)
{
    unsigned char *base = (unsigned char *)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
    struct X(workspace) *ws = (struct X(workspace) *)base;
    unsigned char *arrays = base + STRUCT_SLOT;
    memset(ws, 0, sizeof *ws);
    ws->net = net;
    ws->gen = net->gen;
    atomic_init(&ws->busy, 0);
    ws->Tmax = Tmax;
    ws->Bmax = Bmax;
    ws->S = (R *)(arrays + off[0]);
    ws->D = (R *)(arrays + off[1]);
    ws->Delta = (R *)(arrays + off[2]);
    ws->P = (R *)(arrays + off[3]);
    ws->G = (R *)(arrays + off[4]);
    ws->owned = owned;
    return ws;
}

bptt_status X(workspace_alloc)(const bptt_net *net, size_t Tmax, size_t Bmax,
                               X(workspace) **ws)
{
    static const char fn[] = PREFIX "workspace_alloc";
    size_t off[5] = {0}, total = 0;
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    bptt_status st = layout(fn, net, Tmax, Bmax, off, &total);
    if (st != BPTT_OK)
        return st;
    void *buf = aligned_alloc(64, total); /* total is a multiple of 64 */
    if (!buf)
        return bptt__fail(BPTT_ENOMEM, fn, "allocating %zu bytes", total);
    *ws = place(net, Tmax, Bmax, off, buf, 1);
    return BPTT_OK;
}

bptt_status X(workspace_init)(const bptt_net *net, size_t Tmax, size_t Bmax,
                              void *buf, size_t bytes, X(workspace) **ws)
{
    static const char fn[] = PREFIX "workspace_init";
    size_t off[5] = {0}, total = 0;
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (!buf)
        return bptt__fail(BPTT_ENULL, fn, "buf is NULL");
    bptt_status st = layout(fn, net, Tmax, Bmax, off, &total);
    if (st != BPTT_OK)
        return st;
    if (bytes < total)
        return bptt__fail(BPTT_EBUFFER, fn, "bytes (%zu) < required (%zu)",
                          bytes, total);
    *ws = place(net, Tmax, Bmax, off, buf, 0);
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
    if (nthreads < 1 || nthreads > BPTT_MAX_THREADS)
        return bptt__fail(BPTT_EINVAL, fn, "nthreads (%d) is not in 1..%d",
                          nthreads, BPTT_MAX_THREADS);
    /* A call running on ws uses its pool: never swap it under one. */
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = BPTT_OK;
    if (nthreads != bptt__pool_threads(ws->pool)) {
        bptt__pool *pool = NULL;
        if (nthreads > 1)
            st = bptt__pool_create(fn, nthreads, &pool);
        /* Only now that the new pool runs: a failure keeps the old one. */
        if (st == BPTT_OK) {
            bptt__pool_destroy(ws->pool);
            ws->pool = pool;
        }
    }
    bptt__leave(&ws->busy);
    return st;
}

int X(workspace_threads)(const X(workspace) *ws)
{
    return ws ? bptt__pool_threads(ws->pool) : 0;
}
