/*
 * cells/gated/gated.h — what the LSTM and GRU cells share, per precision:
 * the workspace layout, the thread split of the time loops, the scalar
 * gate functions, and the cells' kernels (lstm/, gru/).  Arguments are
 * valid when the kernels are called: gated.c checks them.
 */
#ifndef BPTT_CELLS_GATED_GATED_H
#define BPTT_CELLS_GATED_GATED_H

#include <math.h>

#include "internal.h"
#include "kernels/gemm.h"
#include "real.h"

/* The workspace: one block, the struct first, then the arrays, each
 * 64-byte aligned.  Rows are time-major (row t*B + b):
 *   Xs     x(t), t = 0..T-1 (ld din): dL/dW's right operand;
 *   H      h(t), t = 0..T (ld n): block 0 is h(0), dL/dU's right operand
 *          is its first T*B rows;
 *   C      LSTM: c(t), t = 0..T (ld n); GRU: NULL;
 *   Y      LSTM: tanh c(t+1); GRU: U_n h(t) + bh_n, the product the reset
 *          gate multiplies (G13) (ld n);
 *   A      the gates' pre-activations, replaced step by step by the gates'
 *          values (ld G·n, blocks in gate order);
 *   D      the deltas of the gates' sums (ld G·n); for the GRU the
 *          recurrent side (G17);
 *   DN     GRU: the n gate's input-side delta (G16) (ld n); LSTM: NULL;
 *   Gc, Cc the carried dL/dh and (LSTM) dL/dc, or (GRU) z ⊙ dL/dh (B x n);
 *   P      U (backward) or the G blocks of Uᵀ (forward), packed for the
 *          recurrence kernel;
 *   Gs     bptt's own GEMM's packed blocks. */
struct X(gated_workspace) {
    bptt_cell cell;
    int fwd_tokens; /* the kept forward staged token ids as Xs (beside
                     * cell: the header fits its arena slot) */
    size_t din, n, G, Tmax, Bmax;
    R *Xs, *H, *C, *Y, *A, *D, *DN, *Gc, *Cc, *P, *Gs;
    bptt__pool *pool;
    size_t fwd_T, fwd_B; /* shape of the kept forward; 0: none */
    double *flow_g, *flow_d; /* the caller's error-flow arrays; NULL: off */
    int owned;
    int check_finite;
    bptt__busy busy; /* a call is running on it (internal.h) */
};
typedef struct X(gated_workspace) XI(gws);

/* The logistic function and tanh in the working precision. */
static inline R XI(sigm)(R a)
{
    return 1 / (1 + EXP(-a));
}

static inline R XI(tanh)(R a)
{
    return TANH(a);
}

/* The gates' activations over k contiguous units (gates.c), vectorized
 * where libmvec is: a = σ(a) in place; out = tanh(a) (out may be a).  A
 * unit's result does not depend on where its run starts as long as runs
 * start on multiples of GATE_BLOCK units (the thread split keeps that). */
enum { GATE_BLOCK = BPTT_UNIT_BLOCK };
BPTT_HIDDEN void XI(gate_sigm)(size_t k, R *a);
BPTT_HIDDEN void XI(gate_tanh)(size_t k, const R *a, R *out);

/* dL/db for the biases that enter the gates' sums the same way (both of
 * the LSTM's, the GRU's r and z, (G20)): db0 = beta·db0 + Σ_k D[k][r] for
 * r < c0 and db1 = beta·db1 + Σ_k D[k][r] for r < c1, each that is not
 * NULL, D rows x max(c0, c1) (ld ldd); one pass over D's rows for both,
 * each sum in order of k. */
BPTT_HIDDEN void XI(gated_bias_sums)(size_t rows, size_t c0, size_t c1,
                                     const R *D, size_t ldd, R beta, R *db0,
                                     R *db1);

/* The error-flow recorder (bptt_gated_workspace_record_flow): for the
 * backward's row `row` = (t−1)·B + b, flow_g[row] = ‖ḡ(t)‖ (g: n
 * entries, (G7)/(G15)) and flow_d[row] = ‖δ(t)‖ (d: the G·n deltas of the
 * gates' recurrent-side sums), in double, overflow-safe; nothing when
 * recording is off.  Every backward kernel calls it once per row, after
 * forming that row's δ; the deferred ones run on one thread then. */
BPTT_HIDDEN double XI(norm2)(size_t rows, size_t cols, const R *A,
                             size_t lda); /* diag/flow.c */
BPTT_HIDDEN void XI(gated_record)(const XI(gws) *ws, size_t row, const R *g,
                                  const R *d);

/* Rows of a step the backward loops take through the recurrent product
 * and the deltas together (gru/gru.c, lstm/lstm.c). */
enum { ROWS_AT_ONCE = 8 };

/* The backward's recurrent product for rows b0..b1-1 of step t: g's rows
 * (ld n) += δ(t+1) U ((G7), (G15)) on a thread's panels q0..q1 of U packed
 * in ws->P; nothing at t = T (no δ(T+1)). */
static inline void XI(gated_add_recurrent)(const XI(rec_kernel) *kernel,
                                           const XI(gws) *ws, size_t t,
                                           size_t T, size_t B, size_t b0,
                                           size_t b1, size_t q0, size_t q1,
                                           R *g)
{
    const size_t n = ws->n, Gn = ws->G * n;
    if (t < T)
        kernel->run(b1 - b0, Gn, n, q0, q1, ws->D + (t * B + b0) * Gn, Gn,
                    1, ws->P, g + b0 * n, n);
}

/* Threads for a time loop over n units with G gates: the workspace's,
 * unless a step is too small to share (a barrier costs about a 128 x 128
 * product) or the panels too few for one each. */
BPTT_HIDDEN int XI(gated_threads)(const XI(gws) *ws, size_t B, size_t nr);
/* A thread's share of the units: XI(rec_share) (kernels/recurrence.h). */

/* Network B's token forward on a gated core: bptt_gated_forward with the
 * ids' one-hot rows staged as Xs (fn: the caller's name, which has checked
 * the ids and their overlap with every other array). */
BPTT_HIDDEN bptt_status XI(gated_forward_tokens)(
    const char *fn, size_t T, size_t B, const R *W, size_t ldw, const R *U,
    size_t ldu, const R *bx, const R *bh, const int32_t *tokens, const R *h0,
    size_t ldh0, const R *c0, size_t ldc0, R *h, size_t ldh, R *cT,
    size_t ldcT, bptt_algo algo, XI(gws) *ws);

/* The kernels.  Forward: h (ld ldh) and the arrays of ws above; Xs and
 * H's block 0 (h(0)) and, for the LSTM, C's block 0 are staged by gated.c.
 * Backward: outputs are written with beta by the deferred kernels; the
 * naive ones add to outputs gated.c has scaled by beta already.  dcT and
 * every output may be NULL. */
BPTT_HIDDEN void XI(lstm_forward)(size_t T, size_t B, const R *W, size_t ldw,
                                  const R *U, size_t ldu, const R *bx,
                                  const R *bh, R *h, size_t ldh, XI(gws) *ws);
BPTT_HIDDEN void XI(lstm_backward)(size_t T, size_t B, const R *W,
                                   size_t ldw, const R *U, size_t ldu,
                                   const R *dh, size_t lddh, const R *dcT,
                                   size_t lddcT, R beta, R *dW, size_t lddw,
                                   R *dU, size_t lddu, R *dbx, R *dbh, R *dx,
                                   size_t lddx, R *dh0, size_t lddh0, R *dc0,
                                   size_t lddc0, XI(gws) *ws);
BPTT_HIDDEN void XI(lstm_naive_forward)(size_t T, size_t B, const R *W,
                                        size_t ldw, const R *U, size_t ldu,
                                        const R *bx, const R *bh, R *h,
                                        size_t ldh, XI(gws) *ws);
BPTT_HIDDEN void XI(lstm_naive_backward)(size_t T, size_t B, const R *W,
                                         size_t ldw, const R *U, size_t ldu,
                                         const R *dh, size_t lddh,
                                         const R *dcT, size_t lddcT, R *dW,
                                         size_t lddw, R *dU, size_t lddu,
                                         R *dbx, R *dbh, R *dx, size_t lddx,
                                         R *dh0, size_t lddh0, R *dc0,
                                         size_t lddc0, XI(gws) *ws);
BPTT_HIDDEN void XI(gru_forward)(size_t T, size_t B, const R *W, size_t ldw,
                                 const R *U, size_t ldu, const R *bx,
                                 const R *bh, R *h, size_t ldh, XI(gws) *ws);
BPTT_HIDDEN void XI(gru_backward)(size_t T, size_t B, const R *W, size_t ldw,
                                  const R *U, size_t ldu, const R *dh,
                                  size_t lddh, R beta, R *dW, size_t lddw,
                                  R *dU, size_t lddu, R *dbx, R *dbh, R *dx,
                                  size_t lddx, R *dh0, size_t lddh0,
                                  XI(gws) *ws);
BPTT_HIDDEN void XI(gru_naive_forward)(size_t T, size_t B, const R *W,
                                       size_t ldw, const R *U, size_t ldu,
                                       const R *bx, const R *bh, R *h,
                                       size_t ldh, XI(gws) *ws);
BPTT_HIDDEN void XI(gru_naive_backward)(size_t T, size_t B, const R *W,
                                        size_t ldw, const R *U, size_t ldu,
                                        const R *dh, size_t lddh, R *dW,
                                        size_t lddw, R *dU, size_t lddu,
                                        R *dbx, R *dbh, R *dx, size_t lddx,
                                        R *dh0, size_t lddh0, XI(gws) *ws);

#endif /* BPTT_CELLS_GATED_GATED_H */
