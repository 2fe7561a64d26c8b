/*
 * cell_vanilla.c — the vanilla cell for the plan layer: Network A's core
 * (bptt/network.h), its size table and its calls forwarded to the expert
 * layer with the plan's layout, algorithm and workspace.
 */
#include <stddef.h>

#include "plan/cell.h"

#define FIELD(member, c, cname, r)                                             \
    (bptt__ld_field) { #member, offsetof(bptt_layout, member), c, cname, r }

/* Every member of bptt_layout, shaped as bptt/network.h says. */
static size_t fields(const bptt_net *net, size_t TB, size_t Bmax,
                     bptt__ld_field *f)
{
    const size_t din = net->din, dout = net->dout, m = net->m;
    size_t n = 0;
    f[n++] = FIELD(ldw, m, "din+dout", dout);
    f[n++] = FIELD(ldx, din, "din", TB);
    f[n++] = FIELD(ldy0, dout, "dout", Bmax);
    f[n++] = FIELD(ldy, dout, "dout", TB);
    f[n++] = FIELD(ldt, dout, "dout", TB);
    f[n++] = FIELD(lddy, dout, "dout", TB);
    f[n++] = FIELD(lddw, m, "din+dout", dout);
    f[n++] = FIELD(lddx, din, "din", TB);
    f[n++] = FIELD(lddy0, dout, "dout", Bmax);
    return n;
}

static bptt_status ws_alloc(const bptt_net *net, size_t Tmax, size_t Bmax,
                            void **ws)
{
    X(workspace) *w;
    CHECK(X(workspace_alloc)(net, Tmax, Bmax, &w));
    *ws = w;
    return BPTT_OK;
}

static void ws_free(void *ws)
{
    X(workspace_free)(ws);
}

static bptt_status forward(const struct X(plan) *p, size_t T, size_t B,
                           const X(params) *prm, const R *x, const R *y0, R *y)
{
    const bptt_layout *ld = &p->ld;
    return X(forward)(p->net, T, B, prm->W, ld->ldw, prm->b, x, ld->ldx, y0,
                      ld->ldy0, y, ld->ldy, p->algo, p->ws);
}

static bptt_status backward(const struct X(plan) *p, size_t T, size_t B,
                            const X(params) *prm, const R *dy, R beta,
                            const X(grads) *g)
{
    const bptt_layout *ld = &p->ld;
    const X(grads) none = {NULL, NULL, NULL, NULL};
    if (!g)
        g = &none;
    return X(backward)(p->net, T, B, prm->W, ld->ldw, dy, ld->lddy, beta,
                       g->dW, ld->lddw, g->db, g->dx, ld->lddx, g->dy0,
                       ld->lddy0, p->algo, p->ws);
}

const XI(cell) XI(cell_vanilla) = {fields, ws_alloc, ws_free, forward,
                                   backward};
