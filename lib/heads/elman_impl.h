/*
 * elman_impl.h — Network B's internals, compiled once per precision: the
 * Elman workspace's layout and the head (readout, output nonlinearity and
 * loss) that elman.c puts on top of Network A's core.  Arguments are valid
 * when the head functions are called: the entry points in elman.c check
 * them.
 */
#ifndef BPTT_ELMAN_IMPL_H
#define BPTT_ELMAN_IMPL_H

#include "cells/gated/gated.h"
#include "cells/vanilla/core.h"

/* One block: header, then Y, dYbar, H, dH (each 64-byte aligned, rows of
 * T*B), then the core's workspace placed by its init: Network A's
 * (core) or, for a gated cell, the LSTM's or GRU's (gcore).
 * Row k = t*B + b of Y is y_t (ld nout), of dYbar ∂E/∂ȳ_t (ld nout), of H
 * h_t (ld dh), of dH the core's dL/dh_t (ld dh). */
struct X(elman_workspace) {
    const bptt_elman *el;
    uint64_t gen;               /* el->gen when made (see Network A's) */
    size_t Tmax, Bmax;
    R *Y, *dYbar, *H, *dH;
    X(workspace) *core;         /* vanilla cell; else NULL */
    X(gated_workspace) *gcore;  /* gated cell; else NULL */
    size_t fwd_T, fwd_B;        /* shape of the kept forward; 0: none */
    const bptt_grad_hook *hook; /* set_grad_hook (also the core's); NULL */
    /* A gated core's options the bptt_elman_ calls do not take (the
     * caller's arrays, set by bptt_elman_workspace_set_gated_bias and
     * _set_cell_state, elman_gated.c; NULL: 0 in, not wanted out). */
    const R *bhh;               /* b_hh, G·dh: the recurrent-side bias */
    R *dbhh;                    /* its gradient */
    const R *c0;                /* LSTM: c(0), B x dh */
    R *cT, *dc0;                /* LSTM: c(T) out, dL/dc(0) out */
    size_t ldc0, ldcT, lddc0;
    int owned;                  /* the library allocated the block */
    bptt__busy busy;            /* a call is running on it */
};

/* The targets of rows steps for the descriptor's head (see bptt/elman.h):
 * which of labels / L may or must be given, and every label and soft-label
 * entry in range.  Reads them all; writes nothing. */
BPTT_HIDDEN bptt_status XI(head_check_targets)(const char *fn,
                                               const bptt_elman *el,
                                               size_t rows, const int *labels,
                                               const R *L, size_t ldl);

/* Head forward over rows = T*B rows of h (H, ld dh):
 *     ȳ = H Woᵀ + bo  (one GEMM; loops if naive),   y = head(ȳ)  into Y,
 * and, if E is not NULL, the loss into *E (accumulated in double). */
BPTT_HIDDEN void XI(head_forward)(const bptt_elman *el, size_t rows,
                                  const R *Wo, size_t ldwo, const R *bo,
                                  const R *H, const int *labels, const R *L,
                                  size_t ldl, int naive, R *Y, double *E);

/* Head backward, mirroring head_forward:
 *     dYbar = ∂E/∂ȳ  (never the softmax Jacobian),
 *     dWo += dYbarᵀ H,   dbo += Σ_rows dYbar   (if dbo),
 *     dH = dYbar Wo      (overwritten: the core's dL/dh_t).
 * dWo and dbo have been scaled by beta already. */
BPTT_HIDDEN void XI(head_backward)(const bptt_elman *el, size_t rows,
                                   const R *Wo, size_t ldwo, const R *H,
                                   const R *Y, const int *labels, const R *L,
                                   size_t ldl, int naive, R *dYbar, R *dWo,
                                   size_t lddwo, R *dbo, R *dH);

/* Network B's head as the loss callback (X(dy_fn), bptt/schedule.h) of the
 * memory-bounded schedule and the truncated-BPTT stream: on the n·B rows
 * of h it gets, head_forward then head_backward — ȳ into Y, dȳ into dYbar
 * (n·B x nout each), dWo and dbo added into acc (nout x dh, then nout),
 * dL/dh into dy (ld dh), the loss added to *loss.  The targets of step t0
 * are row (t0 − t_base)·B of labels / L. */
typedef struct XI(head_loss) {
    const bptt_elman *el;
    const R *Wo, *bo, *L;
    size_t ldwo, ldl, t_base;
    const int *labels;
    R *Y, *dYbar, *acc;
} XI(head_loss);
BPTT_HIDDEN bptt_status XI(head_dy)(void *ctx, size_t t0, size_t n, size_t B,
                                    const R *y, size_t ldy, R *dy,
                                    size_t lddy, double *loss);

/* dWo = beta·dWo + acc's nout x dh, dbo = beta·dbo + acc's last nout (beta
 * = 0 reads neither; either may be NULL). */
BPTT_HIDDEN void XI(head_deliver)(size_t nout, size_t dh, R beta,
                                  const R *acc, R *dWo, size_t lddwo, R *dbo);

/* The non-finite check of the head's arrays (elman_finite.c), on when the
 * core's is: the inputs Wo, bo (and W, for backward: pass NULL in forward,
 * whose core scans it) before anything is written; the results after —
 * forward (dWo NULL): the loss E (if asked for) and y; backward: dWo, dbo. */
BPTT_HIDDEN bptt_status XI(elman_finite_inputs)(const char *fn,
                                                const X(elman_workspace) *ws,
                                                const R *W, size_t ldw,
                                                const R *Wo, size_t ldwo,
                                                const R *bo);
BPTT_HIDDEN bptt_status XI(elman_finite_results)(const char *fn,
                                                 const X(elman_workspace) *ws,
                                                 size_t TB, const double *E,
                                                 const R *dWo, size_t lddwo,
                                                 const R *dbo);

#endif /* BPTT_ELMAN_IMPL_H */
