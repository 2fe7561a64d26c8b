/*
 * kernels/gemm.h — the whole-sequence products (forward's input
 * projection, backward's dL/dW and dL/dx): the BLAS's GEMM, or bptt's own
 * (gemm.c) when the BLAS runs kernels weaker than the CPU.
 * Precision-dependent.
 */
#ifndef BPTT_KERNELS_GEMM_H
#define BPTT_KERNELS_GEMM_H

#include "kernels/isa.h"
#include "kernels/pool.h"
#include "kernels/recurrence.h"

/* A = beta·A on a rows x cols block; beta = 0 writes zeros without reading
 * A (the BLAS convention, NaN included). */
BPTT_HIDDEN void XI(scale)(size_t rows, size_t cols, R beta, R *A, size_t lda);

/* Rows of op(B) packed at a time by bptt's own GEMM.  Its scratch holds
 * that block of op(B) (kc·ceil(N/p)·p elements, p = BPTT_PANEL_BYTES /
 * sizeof(R), kc = min(K, BPTT_GEMM_KC)) and, when A is transposed, the
 * block of op(A) (M·kc elements) after it.  512 rather than 256: each
 * block reads and writes C once, and the backward's products over the
 * whole sequence (K = T·B) then pass over C half as often; on a Zen 4
 * (2026-11-27, one thread) the GRU's backward at din = n = 256, T = 100,
 * B = 32 in float ran about 3% faster, Network A's deferred passes level
 * or faster, 1024 no faster.  The block is summed in place in C, so the
 * results do not depend on it. */
#define BPTT_GEMM_KC 512

/* C = beta·C + op(A)·op(B), as CBLAS's row-major gemm with alpha = 1:
 * op(A) is M×K (A, ld lda, transposed if transa), op(B) is K×N (B, ld ldb,
 * transposed if transb), C is M×N (ld ldc).  beta = 0 writes C without
 * reading it.  Runs on the BLAS, unless bptt__gemm_own() is on: then on
 * bptt's GEMM micro-kernel (kernels/microkernel.c) in blocks of
 * BPTT_GEMM_KC rows of op(B) packed into scratch, with the columns split
 * between the pool's threads; each element is summed as the recurrence
 * kernel sums it (kernels/recurrence.h), whatever the thread count. */
BPTT_HIDDEN void XI(gemm)(int transa, int transb, size_t M, size_t N,
                          size_t K, const R *A, size_t lda, const R *B,
                          size_t ldb, R beta, R *C, size_t ldc,
                          bptt__pool *pool, R *scratch);

/* C = beta·C + op(A)ᵀ·B for C M×N (ld ldc) and B K×N (ld ldb), op(A)'s
 * M rows the M1 columns of A (K×M1, ld lda) and then the M − M1 columns
 * of A2 (K×(M − M1), ld lda2): XI(gemm)(1, 0, ...) on C's first M1 rows
 * with A and on the rest with A2, the same values, but on bptt's own GEMM
 * one product that packs B once (the GRU's dL/dW, (G20) in
 * docs/gated.md, takes its r and z rows from one array and its n rows
 * from another). */
BPTT_HIDDEN void XI(gemm_split)(size_t M1, size_t M, size_t N, size_t K,
                                const R *A, size_t lda, const R *A2,
                                size_t lda2, const R *B, size_t ldb, R beta,
                                R *C, size_t ldc, bptt__pool *pool,
                                R *scratch);

/* The per-step products of the step-by-step algorithms (gemv-ger, RTRL)
 * on the BLAS: Z = beta·Z + S·op(W) for B rows, Z B×N (ld ldz), S B×K (ld
 * lds), op(W) = Wᵀ with W N×K (wt = 1) or W with W K×N (wt = 0), ld ldw;
 * one GEMV when B = 1, one GEMM otherwise. */
BPTT_HIDDEN void XI(rows_times)(int wt, size_t B, size_t N, size_t K,
                                const R *S, size_t lds, const R *W,
                                size_t ldw, R beta, R *Z, size_t ldz);

/* C += Dᵀ·S, D B×M (ld ldd), S B×N (ld lds), C M×N (ld ldc): eq. (12)'s
 * rank-B update of one step; one GER when B = 1, one GEMM otherwise. */
BPTT_HIDDEN void XI(rank_update)(size_t B, size_t M, size_t N, const R *D,
                                 size_t ldd, const R *S, size_t lds, R *C,
                                 size_t ldc);

/* Z[k][i] += b[i] for rows k < rows of Z (ld ldz), i < n: the bias of
 * z = W·s + b. */
BPTT_HIDDEN void XI(add_bias)(size_t rows, size_t n, const R *b, R *Z,
                              size_t ldz);

#endif /* BPTT_KERNELS_GEMM_H */
