/*
 * rtrl_kernels.h — the RTRL state's layout and the kernels rtrl.c
 * dispatches to (eqs. (9)-(11)).  Compiled once per precision, like
 * cells/vanilla/core.h; arguments are valid when these are called.
 */
#ifndef BPTT_RTRL_KERNELS_H
#define BPTT_RTRL_KERNELS_H

#include "cells/vanilla/core.h"

/* One block, header first, then the arrays, each 64-byte aligned (the
 * formula at bptt_rtrl_size).  With n = dout, m = din + dout:
 *
 *   P   Bmax·n rows of n·(m+1) entries, ld ldp = n·(m+1) + 64 bytes: rows
 *       b·n .. b·n+n-1 are P_b, the
 *       sensitivities of sequence b, P_b[l, k·m+j] = ∂z_l/∂W_kj and
 *       P_b[l, n·m+k] = ∂z_l/∂b_k.  Stacking the P_b vertically makes
 *       eq. (11) for all sequences one GEMV over P.
 *   S   Bmax rows of m: s(t) = [x(t); y(t)] before an advance; after it
 *       the y-part holds y(t+1), the next step's y(t).
 *   D   Bmax rows of n: f'(z(t+1)) of the last advance.
 *   Z   Bmax rows of n: z(t+1) during an advance, then f'(z(t+1)) (D and
 *       Z swap, so the old f'(z(t)) survives until eq. (10) has used it).
 *   G   Bmax rows of n: e(t+1) ⊙ f'(z(t+1)), the vector of eq. (11).
 *   Y   Bmax rows of n: y(t+1) until eq. (10) has used y(t) in S.
 *   A   n x n: Wy·diag(f'(z_b(t))), the left factor of eq. (10).
 *   C   n x panel, ld panel + 64 bytes: the GEMM's output panel, copied
 *       back into P (eq. (10)
 *       cannot be a GEMM in place; a panel that stays in cache costs one
 *       copy instead of a second P).
 *   V   panel entries: eq. (11) over one panel, fused with eq. (10). */
struct X(rtrl) {
    const bptt_net *net;
    uint64_t gen;  /* net->gen when made (see the workspace's) */
    size_t Bmax;
    size_t B;      /* sequences of the last reset; 0: never reset */
    size_t steps;  /* advances since the last reset */
    size_t ldp;    /* leading dimension of P: n·(m+1) columns, padded */
    size_t panel;  /* columns of one eq. (10) GEMM */
    R *P, *S, *D, *Z, *G, *Y, *A, *C, *V;
    int owned;
    bptt__busy busy; /* a call is running on it */
};

/* Eq. (9) (first != 0: P_b = E(s_b(0))) or eq. (10) for the B sequences,
 * from s(t) in S and f'(z(t)) in D; W supplies Wy.  The GEMM form, given
 * dW (not NULL), also adds eq. (11) for G to dW and db (db may be NULL)
 * while each panel of P(t+1) is in cache. */
BPTT_HIDDEN void XI(rtrl_naive_sens)(const bptt_net *net, size_t B,
                                     const R *W, size_t ldw, int first,
                                     struct X(rtrl) *st);
BPTT_HIDDEN void XI(rtrl_gemm_sens)(const bptt_net *net, size_t B,
                                    const R *W, size_t ldw, int first,
                                    R *dW, size_t lddw, R *db,
                                    struct X(rtrl) *st);

/* Eq. (11) summed over the B sequences from G and P: dW += ..., db += ...
 * (db may be NULL); the caller has scaled dW and db by beta. */
BPTT_HIDDEN void XI(rtrl_naive_grad)(const bptt_net *net, size_t B, R *dW,
                                     size_t lddw, R *db,
                                     const struct X(rtrl) *st);
BPTT_HIDDEN void XI(rtrl_gemm_grad)(const bptt_net *net, size_t B, R *dW,
                                    size_t lddw, R *db,
                                    const struct X(rtrl) *st);

#endif /* BPTT_RTRL_KERNELS_H */
