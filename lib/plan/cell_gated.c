/*
 * cell_gated.c — the LSTM and GRU cells for the plan layer (bptt/gated.h):
 * their size table and their calls forwarded to the expert layer with the
 * plan's layout, algorithm and workspace.
 *
 * The plan's descriptor supplies din and n (its dout; its activations are
 * not used: the gates have theirs).  As Network A's W = [Wx | Wy], the
 * plan's W is (G·n) x (din+n), [W_ih | W_hh]: the expert call's W is its
 * first din columns and U the last n, with the same leading dimension, and
 * dW is laid out alike.  The plan's b is the input-side bias bx and db its
 * gradient; the recurrent-side bias bh is 0 (for the LSTM only bx + bh
 * matters, docs/gated.md (G1); a GRU with a nonzero bh_n needs the expert
 * call).  y0 and dy0 are h(0) and dL/dh(0); c(0) is 0 and dL/dc(T) is 0.
 */
#include <stddef.h>

#include "plan/cell.h"

#define FIELD(member, c, cname, r)                                             \
    (bptt__ld_field) { #member, offsetof(bptt_layout, member), c, cname, r }

static size_t fields(size_t G, const bptt_net *net, size_t TB, size_t Bmax,
                     bptt__ld_field *f)
{
    const size_t din = net->din, n = net->dout, m = net->m, Gn = G * n;
    size_t k = 0;
    f[k++] = FIELD(ldw, m, "din+n", Gn);
    f[k++] = FIELD(ldx, din, "din", TB);
    f[k++] = FIELD(ldy0, n, "n", Bmax);
    f[k++] = FIELD(ldy, n, "n", TB);
    f[k++] = FIELD(ldt, n, "n", TB);
    f[k++] = FIELD(lddy, n, "n", TB);
    f[k++] = FIELD(lddw, m, "din+n", Gn);
    f[k++] = FIELD(lddx, din, "din", TB);
    f[k++] = FIELD(lddy0, n, "n", Bmax);
    return k;
}

static size_t fields_lstm(const bptt_net *net, size_t TB, size_t Bmax,
                          bptt__ld_field *f)
{
    return fields(4, net, TB, Bmax, f);
}

static size_t fields_gru(const bptt_net *net, size_t TB, size_t Bmax,
                         bptt__ld_field *f)
{
    return fields(3, net, TB, Bmax, f);
}

static bptt_status ws_alloc(bptt_cell cell, const bptt_net *net, size_t Tmax,
                            size_t Bmax, void **ws)
{
    X(gated_workspace) *w;
    CHECK(X(gated_workspace_alloc)(cell, net->din, net->dout, Tmax, Bmax, &w));
    *ws = w;
    return BPTT_OK;
}

static bptt_status ws_alloc_lstm(const bptt_net *net, size_t Tmax,
                                 size_t Bmax, void **ws)
{
    return ws_alloc(BPTT_CELL_LSTM, net, Tmax, Bmax, ws);
}

static bptt_status ws_alloc_gru(const bptt_net *net, size_t Tmax, size_t Bmax,
                                void **ws)
{
    return ws_alloc(BPTT_CELL_GRU, net, Tmax, Bmax, ws);
}

static void ws_free(void *ws)
{
    X(gated_workspace_free)(ws);
}

static bptt_status forward(const struct X(plan) *p, size_t T, size_t B,
                           const X(params) *prm, const R *x, const R *y0, R *y)
{
    const bptt_layout *ld = &p->ld;
    const size_t din = p->net->din;
    const R *U = prm->W ? prm->W + din : NULL;
    return X(gated_forward)(T, B, prm->W, ld->ldw, U, ld->ldw, prm->b, NULL, x,
                            ld->ldx, y0, ld->ldy0, NULL, 0, y, ld->ldy, NULL,
                            0, p->algo, p->ws);
}

static bptt_status backward(const struct X(plan) *p, size_t T, size_t B,
                            const X(params) *prm, const R *dy, R beta,
                            const X(grads) *g)
{
    const bptt_layout *ld = &p->ld;
    const size_t din = p->net->din;
    const X(grads) none = {NULL, NULL, NULL, NULL};
    if (!g)
        g = &none;
    const R *U = prm->W ? prm->W + din : NULL;
    R *dU = g->dW ? g->dW + din : NULL;
    return X(gated_backward)(T, B, prm->W, ld->ldw, U, ld->ldw, dy, ld->lddy,
                             NULL, 0, beta, g->dW, ld->lddw, dU, ld->lddw,
                             g->db, NULL, g->dx, ld->lddx, g->dy0, ld->lddy0,
                             NULL, 0, p->algo, p->ws);
}

const XI(cell) XI(cell_lstm) = {fields_lstm, ws_alloc_lstm, ws_free, forward,
                                backward};
const XI(cell) XI(cell_gru) = {fields_gru, ws_alloc_gru, ws_free, forward,
                               backward};
