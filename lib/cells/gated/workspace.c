/*
 * cells/gated/workspace.c — the gated cells' size query and the placement
 * of a workspace's arrays in one block, owned by the library (alloc) or by
 * the caller (init); its threads and its non-finite switch.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cells/gated/gated.h"

#ifndef BPTT_SINGLE
size_t bptt_gated_gates(bptt_cell cell)
{
    return cell == BPTT_CELL_LSTM ? 4 : cell == BPTT_CELL_GRU ? 3 : 0;
}
#endif

/* The arrays of struct X(gated_workspace), in layout order. */
enum { XS, H, C, Y, A, D, DN, GC, CC, P, GS, NARR };

static_assert(sizeof(struct X(gated_workspace)) <= BPTT_ARENA_SLOT,
              "gated workspace header exceeds its slot");

/* The arrays in one arena (arena.h): the formula documented at
 * bptt_gated_workspace_size.  An array of no bytes (a cell's unused one)
 * is placed as NULL. */
static bptt_status layout(const char *fn, bptt_cell cell, size_t din,
                          size_t n, size_t Tmax, size_t Bmax, bptt__arena *a,
                          size_t bytes[NARR])
{
    const size_t G = bptt_gated_gates(cell);
    if (G == 0)
        return bptt__fail(BPTT_EINVAL, fn,
                          "cell = %d is not BPTT_CELL_LSTM or BPTT_CELL_GRU",
                          (int)cell);
    if (din == 0 || n == 0)
        return bptt__fail(BPTT_ESIZE, fn, "din (%zu) and n (%zu) must be > 0",
                          din, n);
    if (Tmax == 0 || Bmax == 0)
        return bptt__fail(BPTT_ESIZE, fn,
                          "Tmax (%zu) and Bmax (%zu) must be > 0", Tmax, Bmax);
    const int lstm = cell == BPTT_CELL_LSTM;
    int ok = 1;
    const size_t r = sizeof(R);
    const size_t rows = bptt__mul(Tmax, Bmax, &ok);
    const size_t Gn = bptt__mul(G, n, &ok);
    const size_t rows1 = bptt__add(rows, Bmax, &ok);
    const size_t nrmax = BPTT_PANEL_BYTES / r;
    const size_t wide = din > Gn ? din : Gn;
    size_t kc = wide > rows ? wide : rows;
    kc = kc < BPTT_GEMM_KC ? kc : BPTT_GEMM_KC;
    bytes[XS] = bptt__mul(bptt__mul(rows, din, &ok), r, &ok);
    bytes[H] = bptt__mul(bptt__mul(rows1, n, &ok), r, &ok);
    bytes[C] = lstm ? bytes[H] : 0;
    bytes[Y] = bptt__mul(bptt__mul(rows, n, &ok), r, &ok);
    bytes[A] = bptt__mul(bptt__mul(rows, Gn, &ok), r, &ok);
    bytes[D] = bytes[A];
    bytes[DN] = lstm ? 0 : bytes[Y];
    bytes[GC] = bptt__mul(bptt__mul(Bmax, n, &ok), r, &ok);
    bytes[CC] = bytes[GC];
    bytes[P] = bptt__mul(bptt__mul(Gn, XI(rec_panels)(n, nrmax) * nrmax, &ok),
                         r, &ok);
    bytes[GS] = bptt__mul(
        bptt__mul(kc, bptt__add(XI(rec_panels)(wide, nrmax) * nrmax, Gn, &ok),
                  &ok),
        r, &ok);
    bptt__arena_layout(a, NARR, bytes, &ok);
    /* The whole-sequence GEMMs take T·B·G·n and G·n·max(din, n) as the
     * BLAS's int dimensions and products. */
    const size_t cells = bptt__mul(rows, Gn, &ok);
    const size_t weights = bptt__mul(Gn, wide, &ok);
    if (!ok || cells > BPTT_INT_MAX || weights > BPTT_INT_MAX)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "a workspace for din = %zu, n = %zu, Tmax = %zu, "
                          "Bmax = %zu does not fit", din, n, Tmax, Bmax);
    return BPTT_OK;
}

bptt_status X(gated_workspace_size)(bptt_cell cell, size_t din, size_t n,
                                    size_t Tmax, size_t Bmax, size_t *bytes)
{
    static const char fn[] = PREFIX "gated_workspace_size";
    bptt__arena a;
    size_t len[NARR];
    if (!bytes)
        return bptt__fail(BPTT_ENULL, fn, "bytes is NULL");
    CHECK(layout(fn, cell, din, n, Tmax, Bmax, &a, len));
    *bytes = a.total;
    return BPTT_OK;
}

static XI(gws) *place(bptt_cell cell, size_t din, size_t n, size_t Tmax,
                      size_t Bmax, const bptt__arena *a,
                      const size_t len[NARR], unsigned char *base, int owned)
{
    XI(gws) *ws = (XI(gws) *)base;
    memset(ws, 0, sizeof *ws);
    ws->cell = cell;
    ws->din = din;
    ws->n = n;
    ws->G = bptt_gated_gates(cell);
    ws->Tmax = Tmax;
    ws->Bmax = Bmax;
    R **arr[NARR] = {&ws->Xs, &ws->H, &ws->C, &ws->Y, &ws->A, &ws->D,
                     &ws->DN, &ws->Gc, &ws->Cc, &ws->P, &ws->Gs};
    for (int k = 0; k < NARR; k++)
        *arr[k] = len[k] ? bptt__arena_at(base, a, (size_t)k) : NULL;
    ws->owned = owned;
    atomic_init(&ws->busy, 0);
    return ws;
}

bptt_status X(gated_workspace_alloc)(bptt_cell cell, size_t din, size_t n,
                                     size_t Tmax, size_t Bmax, XI(gws) **ws)
{
    static const char fn[] = PREFIX "gated_workspace_alloc";
    bptt__arena a;
    size_t len[NARR];
    unsigned char *base;
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    CHECK(layout(fn, cell, din, n, Tmax, Bmax, &a, len));
    CHECK(bptt__arena_alloc(fn, &a, &base));
    *ws = place(cell, din, n, Tmax, Bmax, &a, len, base, 1);
    return BPTT_OK;
}

bptt_status X(gated_workspace_init)(bptt_cell cell, size_t din, size_t n,
                                    size_t Tmax, size_t Bmax, void *buf,
                                    size_t bytes, XI(gws) **ws)
{
    static const char fn[] = PREFIX "gated_workspace_init";
    bptt__arena a;
    size_t len[NARR];
    unsigned char *base;
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    if (!buf)
        return bptt__fail(BPTT_ENULL, fn, "buf is NULL");
    CHECK(layout(fn, cell, din, n, Tmax, Bmax, &a, len));
    CHECK(bptt__arena_init(fn, &a, buf, bytes, &base));
    *ws = place(cell, din, n, Tmax, Bmax, &a, len, base, 0);
    return BPTT_OK;
}

void X(gated_workspace_free)(XI(gws) *ws)
{
    if (!ws)
        return;
    bptt__pool_destroy(ws->pool);
    ws->pool = NULL;
    if (ws->owned) /* alloc placed the struct at the block's start */
        free(ws);
}

bptt_status X(gated_workspace_set_threads)(XI(gws) *ws, int nthreads)
{
    static const char fn[] = PREFIX "gated_workspace_set_threads";
    if (!ws)
        return bptt__fail(BPTT_ENULL, fn, "ws is NULL");
    /* A call running on ws uses its pool: never swap it under one. */
    CHECK(bptt__enter(fn, "ws", &ws->busy));
    bptt_status st = bptt__pool_set(fn, &ws->pool, nthreads);
    bptt__leave(&ws->busy);
    return st;
}

int X(gated_workspace_threads)(const XI(gws) *ws)
{
    return ws ? bptt__pool_threads(ws->pool) : 0;
}

bptt_cell X(gated_workspace_cell)(const XI(gws) *ws)
{
    return ws ? ws->cell : BPTT_NCELL;
}

size_t X(gated_workspace_din)(const XI(gws) *ws)
{
    return ws ? ws->din : 0;
}

size_t X(gated_workspace_n)(const XI(gws) *ws)
{
    return ws ? ws->n : 0;
}

bptt_status X(gated_workspace_check_finite)(XI(gws) *ws, int on)
{
    if (!ws)
        return bptt__fail(BPTT_ENULL, PREFIX "gated_workspace_check_finite",
                          "ws is NULL");
    ws->check_finite = on != 0;
    return BPTT_OK;
}

bptt_status X(gated_workspace_record_flow)(XI(gws) *ws, double *gnorm,
                                          double *dnorm)
{
    if (!ws)
        return bptt__fail(BPTT_ENULL, PREFIX "gated_workspace_record_flow",
                          "ws is NULL");
    ws->flow_g = gnorm;
    ws->flow_d = dnorm;
    return BPTT_OK;
}

void XI(gated_record)(const XI(gws) *ws, size_t row, const R *g, const R *d)
{
    if (ws->flow_g)
        ws->flow_g[row] = XI(norm2)(1, ws->n, g, ws->n);
    if (ws->flow_d)
        ws->flow_d[row] = XI(norm2)(1, ws->G * ws->n, d, ws->G * ws->n);
}

int XI(gated_threads)(const XI(gws) *ws, size_t B, size_t nr)
{
    return XI(rec_threads)(bptt__pool_threads(ws->pool),
                           (double)B * (double)ws->n * (double)(ws->G * ws->n),
                           ws->n, nr);
}
