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
 * block of op(A) (M·kc elements) after it. */
#define BPTT_GEMM_KC 256

/* C = beta·C + op(A)·op(B), as CBLAS's row-major gemm with alpha = 1:
 * op(A) is M×K (A, ld lda, transposed if transa), op(B) is K×N (B, ld ldb,
 * transposed if transb), C is M×N (ld ldc).  beta = 0 writes C without
 * reading it.  Runs on the BLAS, unless bptt__gemm_own() is on: then on
 * bptt's recurrence kernel in blocks of BPTT_GEMM_KC rows of op(B) packed
 * into scratch, with the columns split between the pool's threads (each
 * element is summed in the same order for every thread count). */
BPTT_HIDDEN void XI(gemm)(int transa, int transb, size_t M, size_t N,
                          size_t K, const R *A, size_t lda, const R *B,
                          size_t ldb, R beta, R *C, size_t ldc,
                          bptt__pool *pool, R *scratch);

#endif /* BPTT_KERNELS_GEMM_H */
