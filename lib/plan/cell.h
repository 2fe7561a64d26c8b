/*
 * cell.h — what a plan needs of a cell, per precision: its size table (the
 * leading dimensions a layout holds, with the row length and rows each
 * must cover) and its workspace and forward/backward entry points.  A new
 * cell (LSTM, GRU) is one more file filling one XI(cell) and one more line
 * in plan.c's table; the plan's code does not change.
 */
#ifndef BPTT_PLAN_CELL_H
#define BPTT_PLAN_CELL_H

#include "plan/layout.h"
#include "real.h"

struct X(plan);

typedef struct XI(cell) {
    /* The size table: fills f with the members of bptt_layout the cell
     * uses, for calls of at most Tmax*Bmax rows (TB, checked for overflow
     * by the caller) and Bmax sequences; returns how many. */
    size_t (*fields)(const bptt_net *net, size_t TB, size_t Bmax,
                     bptt__ld_field *f);
    bptt_status (*ws_alloc)(const bptt_net *net, size_t Tmax, size_t Bmax,
                            void **ws);
    void (*ws_free)(void *ws);
    /* The calls, arguments checked by plan.c but for what the expert call
     * it forwards to checks itself. */
    bptt_status (*forward)(const struct X(plan) *p, size_t T, size_t B,
                           const X(params) *prm, const R *x, const R *y0,
                           R *y);
    bptt_status (*backward)(const struct X(plan) *p, size_t T, size_t B,
                            const X(params) *prm, const R *dy, R beta,
                            const X(grads) *g);
} XI(cell);

/* Network A's plan: the cell it runs, what it was made with, the resolved
 * layout (no member 0) and the workspace it owns. */
struct X(plan) {
    const XI(cell) *ops;
    bptt_cell cell;
    const bptt_net *net;
    size_t Tmax, Bmax;
    bptt_algo algo;
    bptt_layout ld;
    void *ws;
};

/* The vanilla cell: Network A's core (cell_vanilla.c). */
BPTT_HIDDEN extern const XI(cell) XI(cell_vanilla);
/* The gated cells (cell_gated.c): net gives din and n (its dout); W is
 * [W_ih | W_hh] as bptt/gated.h's W and U side by side. */
BPTT_HIDDEN extern const XI(cell) XI(cell_lstm);
BPTT_HIDDEN extern const XI(cell) XI(cell_gru);

#endif /* BPTT_PLAN_CELL_H */
