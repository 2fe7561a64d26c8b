/*
 * kernels.h — the precision-dependent internals: the workspace layout and
 * the kernels forward and backward dispatch to.  Include real.h's
 * precision through this file; everything here is compiled once per
 * precision.  Arguments are valid when these are called: the public entry
 * points in network.c check them.
 */
#ifndef BPTT_KERNELS_H
#define BPTT_KERNELS_H

#include "internal.h"
#include "real.h"

/* The workspace: one block, header first, then the arrays, each 64-byte
 * aligned.  Row k = t*B + b of S is s(t) = [x(t); y(t)] of sequence b
 * (t = 0..T-1, ld m); row k of D is f'(z(t+1)) (ld dout), and forward uses
 * it for z(t+1) before the derivative replaces it; row k of Delta is δ(t+1)
 * (ld dout); scratch holds one step of B rows of m. */
struct X(workspace) {
    const bptt_net *net;
    size_t Tmax, Bmax;
    R *S, *D, *Delta, *scratch;
    size_t fwd_T, fwd_B;        /* shape of the kept forward; 0: none */
    int owned;                  /* the library allocated the block */
    int check_finite;           /* opt-in NaN/Inf scans (finite.c) */
};

/* y(t+1) = f(z(t+1)) for B rows, unit by unit, run by run; z (rows of D,
 * ld dout) is replaced by f'(z) (eq. (4)); y gets ldy. */
BPTT_HIDDEN void XI(activate)(const bptt_net *net, size_t B, R *zd,
                              R *y, size_t ldy);

/* A = beta·A on a rows x cols block; beta = 0 writes zeros without reading
 * A (the BLAS convention, NaN included). */
BPTT_HIDDEN void XI(scale)(size_t rows, size_t cols, R beta, R *A, size_t lda);

/* The naive loop forms (naive.c): the seed's element-wise sums, no BLAS.
 *
 * naive_affine: z(t+1) = W s(t) for B rows of s (ld m) into B rows of z
 * (ld dout), as the seed's split sum over x- and y-columns.
 *
 * naive_backward: eqs. (3)-(12) for the forward kept in ws; outputs have
 * been scaled by beta already and are accumulated into. */
BPTT_HIDDEN void XI(naive_affine)(const bptt_net *net, size_t B,
                                  const R *W, size_t ldw, const R *s, R *z);
BPTT_HIDDEN void XI(naive_backward)(const bptt_net *net, size_t T, size_t B,
                                    const R *W, size_t ldw,
                                    const R *dy, size_t lddy,
                                    R *dW, size_t lddw, R *db,
                                    R *dx, size_t lddx, R *dy0, size_t lddy0,
                                    struct X(workspace) *ws);

/* The deferred algorithm (deferred.c): per step only the recurrent
 * products; the input half of the forward, dL/dW and dL/dx as one GEMM each
 * over all T·B rows.  deferred_backward applies beta itself (through the
 * GEMMs' beta), unlike the other backward kernels.  dW may be NULL. */
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

#endif /* BPTT_KERNELS_H */
