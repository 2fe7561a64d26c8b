/*
 * core.h — the precision-dependent internals: the workspace layout and
 * the kernels forward and backward dispatch to.  Include real.h's
 * precision through this file; everything here is compiled once per
 * precision.  Arguments are valid when these are called: the public entry
 * points in network.c check them.
 */
#ifndef BPTT_CELLS_VANILLA_CORE_H
#define BPTT_CELLS_VANILLA_CORE_H

#include <string.h>

#include "internal.h"
#include "kernels/gemm.h"
#include "real.h"

/* The workspace: one block, header first, then the arrays, each 64-byte
 * aligned.  Row k = t*B + b of S is s(t) = [x(t); y(t)] of sequence b
 * (t = 0..T-1, ld m); row k of D is f'(z(t+1)) (ld dout), and forward uses
 * it for z(t+1) before the derivative replaces it; row k of Delta is δ(t+1)
 * (ld dout); P holds Wyᵀ (forward) or Wy (backward) packed for the
 * recurrence kernel (kernels/recurrence.h), sized for the widest panel;
 * G holds the blocks of BPTT_GEMM_KC rows that bptt's own GEMM packs
 * (kernels/gemm.h).
 *
 * After a token forward (bptt_forward_tokens; fwd_tokens set) the x part of
 * row k of S holds no x(t): its first four bytes hold the id tokens[k] (see
 * XI(token_at)), the rest is unused; the y part is as above.  The one-hot
 * x(t) = e_k is never written: the forward's input term W_x e_k is column k
 * of W_x and the backward's is a scatter-add into the columns of dW_x
 * (docs/derivation.md, "Token inputs"). */
struct X(workspace) {
    const bptt_net *net;
    uint64_t gen;               /* net->gen when made: a freed net's
                                   reused address does not match */
    size_t Tmax, Bmax;
    R *S, *D, *Delta, *P;
    R *G;                       /* bptt's own GEMM's packed blocks */
    bptt__pool *pool;           /* bptt_workspace_set_threads; NULL: one */
    size_t fwd_T, fwd_B;        /* shape of the kept forward; 0: none */
    int fwd_tokens;             /* the kept forward took token ids */
    double *flow_g, *flow_d;    /* the caller's error-flow arrays (see
                                   XI(record_flow)); NULL: not recorded */
    const bptt_grad_hook *hook; /* bptt_workspace_set_grad_hook; NULL: none */
    int owned;                  /* the library allocated the block */
    int check_finite;           /* opt-in NaN/Inf scans (finite.c) */
    bptt__busy busy;            /* a call is running on it */
};

/* Id k of the kept token forward (row k = t*B + b), from S (see above). */
static inline int32_t XI(token_at)(const struct X(workspace) *ws, size_t k)
{
    int32_t id;
    memcpy(&id, ws->S + k * ws->net->m, sizeof id);
    return id;
}

/* The input term of a token forward (network.c), eq. (T1) of
 * docs/derivation.md: row k of Z (ld dout) = W_x e_{id k} = column id k of
 * W, for the rows 0 <= k < n of the kept ids.  It replaces X W_xᵀ, exactly: a one-hot row's product has one
 * non-zero term. */
BPTT_HIDDEN void XI(tokens_gather)(const struct X(workspace) *ws, size_t n,
                                   const R *W, size_t ldw, R *Z);

/* The input half of eq. (12) for token rows, eq. (T2) (network.c): for the rows
 * k0 <= k < k0 + n of Delta (δ(t), ld dout) and the rows r0 <= i < r1 of
 * dW, dW[i][id k] += δ_i of row k: the scatter-add that replaces Δᵀ X for
 * one-hot X, rows k in increasing order. */
BPTT_HIDDEN void XI(tokens_scatter)(const struct X(workspace) *ws, size_t k0,
                                    size_t n, size_t r0, size_t r1, R *dW,
                                    size_t lddw);

/* The error-flow recorder (flow.c), switched on by
 * bptt_workspace_record_flow().  Contract for every backward kernel
 * (gemv-ger, naive, and any later one): call it once for each group of rows
 * of g(t) = dL/dy(t) + Wyᵀ δ(t+1) (eqs. (3)+(7)) as soon as the group is
 * complete and BEFORE it is multiplied by f'(z(t)):
 *
 *   k      the time-major row index of the group's first row, (t-1)·B + b;
 *   n      how many consecutive rows (B for a whole step, 1 for one row);
 *   g      those n rows of g(t), contiguous (ld dout);
 *   d      the matching n rows of f'(z(t)), contiguous (ld dout).
 *
 * With recording on it writes, for i < n, flow_g[k+i] = ‖g row i‖₂ and
 * flow_d[k+i] = ‖δ row i‖₂ with δ = g ⊙ f' rounded to R exactly as eq.
 * (5)/(8) will round it (either array may be NULL).  It reads g and d,
 * writes nothing else, calls no BLAS and costs O(n·dout); with recording
 * off it returns at once.  Norms are taken in double, overflow-safe. */
BPTT_HIDDEN void XI(record_flow)(const struct X(workspace) *ws, size_t k,
                                 size_t n, const R *g, const R *d);

/* ‖A‖_F of a rows x cols block (ld lda) in double, without overflow or
 * underflow where the result is representable (flow.c).  NaN if an entry
 * is NaN; +inf if an entry is infinite and none is NaN. */
BPTT_HIDDEN double XI(norm2)(size_t rows, size_t cols, const R *A, size_t lda);

/* ρ(A) of an n x n matrix (spectral.c): bptt_spectral_radius with the
 * public function's name fn for the detail, so that other entry points
 * (init_rescale_radius) report their own name.  Validates its arguments. */
BPTT_HIDDEN bptt_status XI(spectral_radius)(const char *fn, size_t n,
                                            const R *A, size_t lda,
                                            double *radius);

/* bptt__check_mat (check.c) for an array of R: present if required, ld
 * at least cols and within BLAS's int, its extent addressable. */
static inline bptt_status XI(check_arg)(const char *fn, const char *name,
                                        const void *p, int required,
                                        size_t rows, size_t cols, size_t ld)
{
    return bptt__check_mat(fn, name, p, required, rows, cols, ld, sizeof(R));
}

/* A region (internal.h) of rows x cols elements of R, rows ld apart. */
#define RREG(name, p, rows, cols, ld)                                          \
    (bptt__region) { (name), (p), (rows), (cols), (ld), sizeof(R) }

/* bptt_backward once the caller holds ws's busy flag and check_call has
 * passed (flow.c's profile runs it inside its own hold): the remaining
 * checks, then the gradients.  fn names the public function.  It follows
 * a forward of either kind: after a token forward it is
 * bptt_backward_tokens (dx not computed). */
BPTT_HIDDEN bptt_status XI(backward_held)(const char *fn, const bptt_net *net,
                                          size_t T, size_t B, const R *W,
                                          size_t ldw, const R *dy,
                                          size_t lddy, R beta, R *dW,
                                          size_t lddw, R *db, R *dx,
                                          size_t lddx, R *dy0, size_t lddy0,
                                          bptt_algo algo,
                                          struct X(workspace) *ws);

/* The checks every call on a Network A workspace starts with (network.c):
 * net and ws present, ws made for net, T and B > 0 and within ws's
 * capacity, algo a known code.  ws made for net means the same address
 * and the same generation: a freed descriptor's address reused by a new
 * one does not pass. */
BPTT_HIDDEN bptt_status XI(check_call)(const char *fn, const bptt_net *net,
                                       size_t T, size_t B, bptt_algo algo,
                                       const struct X(workspace) *ws);

/* One step of the backward recurrence (network.c), shared by gemv-ger and
 * deferred: δ(t) = (dL/dy(t) + Wyᵀ δ(t+1)) ⊙ f'(z(t)) (eqs. (3), (7),
 * (5)/(8)) into the B rows (t-1)·B.. of ws->Delta, δ(T+1) = 0, recording
 * the error flow if asked. */
BPTT_HIDDEN void XI(delta_step)(const bptt_net *net, size_t t, size_t T,
                                size_t B, const R *W, size_t ldw, const R *dy,
                                size_t lddy, struct X(workspace) *ws);

/* y(t+1) = f(z(t+1)) for B rows, unit by unit, run by run; z (rows of D,
 * ld dout) is replaced by f'(z) (eq. (4)); y gets ldy. */
BPTT_HIDDEN void XI(activate)(const bptt_net *net, size_t B, R *zd,
                              R *y, size_t ldy);
/* The same for the units c0 <= i < c1 only (a thread's share of a step;
 * c0 a multiple of ACT_BLOCK, c1 too or dout): each unit's result is then
 * bitwise the same as in a whole-row call. */
enum { ACT_BLOCK = BPTT_UNIT_BLOCK };
BPTT_HIDDEN void XI(activate_cols)(const bptt_net *net, size_t B, size_t c0,
                                   size_t c1, R *zd, R *y, size_t ldy);


/* The naive loop forms (naive.c): the element-wise sums of
 * docs/derivation.md, no BLAS.
 *
 * naive_affine: z(t+1) = W s(t) for B rows of s (ld m) into B rows of z
 * (ld dout), as the split sum over x- and y-columns (§1).  tokens: z holds
 * the input term W_x e_k already (XI(tokens_gather)); the sum starts from
 * it and runs over the y-columns only, so that it rounds as the dense sum
 * over a one-hot x does.
 *
 * naive_backward: eqs. (3)-(12) for the forward kept in ws; outputs have
 * been scaled by beta already and are accumulated into.  After a token
 * forward dx is NULL and dW's x-columns get the scatter-add. */
BPTT_HIDDEN void XI(naive_affine)(const bptt_net *net, size_t B,
                                  const R *W, size_t ldw, const R *s,
                                  int tokens, R *z);
BPTT_HIDDEN void XI(naive_backward)(const bptt_net *net, size_t T, size_t B,
                                    const R *W, size_t ldw,
                                    const R *dy, size_t lddy,
                                    R *dW, size_t lddw, R *db,
                                    R *dx, size_t lddx, R *dy0, size_t lddy0,
                                    struct X(workspace) *ws);

/* The deferred algorithm (deferred.c): per step only the recurrent
 * products; the input half of the forward, dL/dW and dL/dx as one GEMM each
 * over all T·B rows.  deferred_backward applies beta itself (through the
 * GEMMs' beta), unlike the other backward kernels.  dW may be NULL.
 * Tokens: deferred_forward is given x NULL, Z (ws->D) holding the input
 * term already (XI(tokens_gather)); deferred_backward, after a token
 * forward (ws->fwd_tokens), takes dx NULL and does dW's x-columns as the
 * scatter-add. */
BPTT_HIDDEN void XI(deferred_forward)(const bptt_net *net, size_t T, size_t B,
                                      const R *W, size_t ldw, const R *b,
                                      const R *x, size_t ldx, R *y, size_t ldy,
                                      struct X(workspace) *ws);
BPTT_HIDDEN void XI(deferred_backward)(const bptt_net *net, size_t T, size_t B,
                                       const R *W, size_t ldw, const R *dy,
                                       size_t lddy, R beta, R *dW, size_t lddw,
                                       R *db, R *dx, size_t lddx, R *dy0,
                                       size_t lddy0, struct X(workspace) *ws);

/* The opt-in non-finite check (finite.c), hooked at the entry and exit of
 * forward and backward.  Each returns BPTT_OK at once unless the check is
 * on in ws; otherwise BPTT_ENONFINITE with a detail naming the first NaN or
 * ±Inf (array, step, sequence, element), or BPTT_OK.  The *_inputs scans
 * run after the argument checks and before anything is written; the
 * *_results scans after the outputs were written. */
BPTT_HIDDEN bptt_status XI(finite_forward_inputs)(const char *fn,
                                                  const struct X(workspace) *ws,
                                                  size_t T, size_t B,
                                                  const R *W, size_t ldw,
                                                  const R *b, const R *x,
                                                  size_t ldx, const R *y0,
                                                  size_t ldy0);
BPTT_HIDDEN bptt_status XI(finite_forward_results)(const char *fn,
                                                   const struct X(workspace) *ws,
                                                   size_t T, size_t B,
                                                   const R *y, size_t ldy);
BPTT_HIDDEN bptt_status XI(finite_backward_inputs)(const char *fn,
                                                   const struct X(workspace) *ws,
                                                   size_t T, size_t B,
                                                   const R *W, size_t ldw,
                                                   const R *dy, size_t lddy);
BPTT_HIDDEN bptt_status XI(finite_backward_results)(
    const char *fn, const struct X(workspace) *ws, size_t T, size_t B,
    const R *dW, size_t lddw, const R *db, const R *dx, size_t lddx,
    const R *dy0, size_t lddy0);

#endif /* BPTT_CELLS_VANILLA_CORE_H */
