/*
 * kernels/recurrence.h — bptt's own kernel for the sequential product of a
 * recurrence, one per instruction set (recurrence.c), and the packing of
 * its right operand.  Precision-dependent: include real.h's precision
 * through this file.
 *
 * The product is C += A·P: C is B×N (ld ldc), A is B×K (element (b, j) at
 * A[b·lda + j·acs]: acs = 1 for row-major A, lda = 1 and acs = its leading
 * dimension for a transposed one), P is K×N.
 * Forward's z(t+1) += Wy·y(t) is this with A = y(t)ᵀ rows and P = Wyᵀ;
 * backward's g(t) += Wyᵀ·δ(t+1) (eq. (7)) with A = δ(t+1) rows and P = Wy.
 *
 * P is packed once per call into column panels of nr columns: panel q
 * holds columns q·nr .. q·nr+nr-1 of P, row after row (K·nr elements,
 * zero-padded past N), so a kernel streams one panel contiguously.  A
 * thread given panels q0..q1-1 writes only those columns of C and reads
 * only those panels: its share of P stays in its own core's cache for all
 * T steps.
 *
 * Every element C[b][i] is computed the same way whatever the panel range,
 * the row blocking or the thread count: C[b][i] + A[b][0]·P[0][i] +
 * A[b][1]·P[1][i] + ... in order of j (fused multiply-adds where the
 * instruction set has them).  That is what makes results bitwise identical
 * for every thread count.
 */
#ifndef BPTT_KERNELS_RECURRENCE_H
#define BPTT_KERNELS_RECURRENCE_H

#include "internal.h"
#include "real.h"

/* The widest panel of any kernel, in bytes (AVX-512: two 64-byte vectors):
 * workspaces size the packed P for it. */
#define BPTT_PANEL_BYTES 128

/* C[b][i] += Σ_j A[b][j]·P[j][i] for b < B and the columns of panels
 * q0 .. q1-1 that are below N (P packed with this kernel's nr). */
typedef void (*XI(rec_fn))(size_t B, size_t K, size_t N, size_t q0,
                           size_t q1, const R *A, size_t lda, size_t acs,
                           const R *P, R *C, size_t ldc);

/* bptt's own GEMM's kernel (microkernel.c) on one block of kc <=
 * BPTT_GEMM_KC terms (kernels/gemm.h): C[b][i] += Σ_j op(A)[b][j]·P[j][i]
 * for b < M and the columns of panels q0 .. q1-1 below N, op(A) M x kc (A
 * row-major, ld lda; transa: op(A) = Aᵀ, A kc x M), P kc x N packed as
 * above with the same nr.  Ap, if not NULL, holds op(A)'s first
 * M / BPTT_GEMM_MR groups of BPTT_GEMM_MR rows packed by XI(gemm_pack_a);
 * the kernel reads those there.  zero: C is not read, each sum starts at
 * +0 (C = op(A)·P: what C += op(A)·P gives on a C of zeros, bitwise).
 * Each element's sum is XI(rec_fn)'s: the two give bitwise equal
 * results. */
typedef void (*XI(gemm_fn))(size_t M, size_t kc, size_t N, size_t q0,
                            size_t q1, int transa, const R *A, size_t lda,
                            const R *Ap, const R *P, R *C, size_t ldc,
                            int zero);

typedef struct XI(rec_kernel) {
    bptt_isa isa;   /* the level it is compiled for */
    size_t nr;      /* its panel width in elements */
    XI(rec_fn) run;
    XI(gemm_fn) gemm;
} XI(rec_kernel);

/* Rows per tile of every level's GEMM kernel (microkernel.c). */
#define BPTT_GEMM_MR 6

/* Pack groups p0 .. p1-1 of mr = BPTT_GEMM_MR rows of op(A) = Aᵀ for the
 * GEMM kernel, op(A)'s rows i < M1 from A's columns (A kc x M1, ld lda),
 * the rows from M1 on from A2's (A2 kc x .., ld lda2; only read when a
 * group reaches M1): group p at Ap + p·mr·kc holds Ap[p·mr·kc + j·mr + r]
 * = op(A)[p·mr + r][j].  A is read in squares of JB terms: in order along
 * its rows, a few at a time, it would be read a cache line per term (rows
 * are often 4 KiB apart, one cache set). */
static inline void XI(gemm_pack_a)(size_t kc, const R *A, size_t lda,
                                   size_t M1, const R *A2, size_t lda2,
                                   size_t p0, size_t p1, R *Ap)
{
    enum { JB = 16, mr = BPTT_GEMM_MR };
    for (size_t j0 = 0; j0 < kc; j0 += JB) {
        const size_t j1 = kc - j0 < JB ? kc : j0 + JB;
        for (size_t p = p0; p < p1; p++) {
            R *ap = Ap + p * mr * kc;
            const size_t i0 = p * mr;
            if (i0 + mr <= M1 || i0 >= M1) { /* one source: contiguous */
                const R *a = i0 < M1 ? A + i0 : A2 + (i0 - M1);
                const size_t ld = i0 < M1 ? lda : lda2;
                for (size_t j = j0; j < j1; j++)
                    for (size_t r = 0; r < mr; r++)
                        ap[j * mr + r] = a[j * ld + r];
            } else { /* the group that straddles M1 */
                for (size_t j = j0; j < j1; j++)
                    for (size_t r = 0; r < mr; r++)
                        ap[j * mr + r] = i0 + r < M1
                                             ? A[j * lda + i0 + r]
                                             : A2[j * lda2 + (i0 + r - M1)];
            }
        }
    }
}

/* The kernel for bptt_kernel_isa(): chosen once, never changes. */
BPTT_HIDDEN const XI(rec_kernel) *XI(rec_kernel_get)(void);

/* Panels of nr columns needed for N columns. */
static inline size_t XI(rec_panels)(size_t N, size_t nr)
{
    return (N + nr - 1) / nr;
}

/* Pack panels q0 .. q1-1 of P = M (trans 0: P[j][i] = M[j][i], M is K×N)
 * or P = Mᵀ (trans 1: P[j][i] = M[i][j], M is N×K), M with leading
 * dimension ldm, into panels of nr columns (XI(rec_panels)(N, nr)·K·nr
 * elements at P for all of them).  A thread packs its own panels, so that
 * they start in its own core's cache. */
static inline void XI(rec_pack)(int trans, size_t K, size_t N, const R *M,
                                size_t ldm, size_t nr, size_t q0, size_t q1,
                                R *P)
{
    /* Rows of a transposed M are read in runs of JB along j: one row at a
     * time down the panel, M's rows (often 4 KiB apart, one cache set)
     * would evict each other. */
    enum { JB = 64 };
    if (!trans) { /* M's rows in order, each once: one stream to read */
        for (size_t j = 0; j < K; j++)
            for (size_t q = q0; q < q1; q++) {
                R *p = P + q * K * nr + j * nr;
                const R *m = M + j * ldm + q * nr;
                const size_t w = N - q * nr < nr ? N - q * nr : nr;
                for (size_t c = 0; c < w; c++)
                    p[c] = m[c];
                for (size_t c = w; c < nr; c++)
                    p[c] = 0;
            }
        return;
    }
    for (size_t q = q0; q < q1; q++) {
        R *panel = P + q * K * nr;
        const size_t c0 = q * nr, w = N - c0 < nr ? N - c0 : nr;
        for (size_t j0 = 0; j0 < K; j0 += JB) {
            const size_t j1 = K - j0 < JB ? K : j0 + JB;
            for (size_t c = 0; c < w; c++)
                for (size_t j = j0; j < j1; j++)
                    panel[j * nr + c] = M[(c0 + c) * ldm + j];
            for (size_t j = j0; j < j1; j++)
                for (size_t c = w; c < nr; c++)
                    panel[j * nr + c] = 0;
        }
    }
}

/* Units per block of a time loop's element-wise work (activations, gates):
 * a thread's share of the units starts on a multiple of it, so that a
 * vectorised element-wise loop splits every block the same way whatever
 * the thread count (bitwise identical results). */
enum { BPTT_UNIT_BLOCK = 16 };

/* Work (multiply-adds per step) below which a time loop runs on one
 * thread: a barrier costs about as much as the product of a 128 x 128
 * block. */
#define BPTT_MIN_SHARED_WORK ((double)(1 << 16))

/* Threads for a time loop over n units in panels of nr, doing work
 * multiply-adds per step, with a pool of pool_threads: one below
 * BPTT_MIN_SHARED_WORK, else at most one per group of panels. */
static inline int XI(rec_threads)(int pool_threads, double work, size_t n,
                                  size_t nr)
{
    if (pool_threads <= 1 || work < BPTT_MIN_SHARED_WORK)
        return 1;
    const size_t g = nr >= BPTT_UNIT_BLOCK ? 1 : BPTT_UNIT_BLOCK / nr;
    const size_t groups = (XI(rec_panels)(n, nr) + g - 1) / g;
    return groups < (size_t)pool_threads ? (int)groups : pool_threads;
}

/* Thread tid's panels q0 .. q1-1 and units c0 .. c1-1 of n units in
 * panels of nr, among nth threads: whole panels, in groups that start on a
 * multiple of BPTT_UNIT_BLOCK units. */
static inline void XI(rec_share)(size_t n, size_t nr, int tid, int nth,
                                 size_t *q0, size_t *q1, size_t *c0,
                                 size_t *c1)
{
    const size_t panels = XI(rec_panels)(n, nr);
    const size_t g = nr >= BPTT_UNIT_BLOCK ? 1 : BPTT_UNIT_BLOCK / nr;
    const size_t groups = (panels + g - 1) / g;
    const size_t a = groups * (size_t)tid / (size_t)nth * g;
    const size_t b = groups * (size_t)(tid + 1) / (size_t)nth * g;
    *q0 = a < panels ? a : panels;
    *q1 = b < panels ? b : panels;
    *c0 = *q0 * nr < n ? *q0 * nr : n;
    *c1 = *q1 * nr < n ? *q1 * nr : n;
}

/* The kernels per level (recurrence.c, compiled once per level). */
BPTT_HIDDEN void XI(rec_run_sse)(size_t B, size_t K, size_t N, size_t q0,
                                 size_t q1, const R *A, size_t lda,
                                 size_t acs, const R *P, R *C, size_t ldc);
BPTT_HIDDEN void XI(rec_run_avx2)(size_t B, size_t K, size_t N, size_t q0,
                                  size_t q1, const R *A, size_t lda,
                                  size_t acs, const R *P, R *C, size_t ldc);
BPTT_HIDDEN void XI(rec_run_avx512)(size_t B, size_t K, size_t N, size_t q0,
                                    size_t q1, const R *A, size_t lda,
                                    size_t acs, const R *P, R *C, size_t ldc);

BPTT_HIDDEN void XI(gemm_run_sse)(size_t M, size_t kc, size_t N, size_t q0,
                                  size_t q1, int transa, const R *A,
                                  size_t lda, const R *Ap, const R *P, R *C,
                                  size_t ldc, int zero);
BPTT_HIDDEN void XI(gemm_run_avx2)(size_t M, size_t kc, size_t N, size_t q0,
                                   size_t q1, int transa, const R *A,
                                   size_t lda, const R *Ap, const R *P, R *C,
                                   size_t ldc, int zero);
BPTT_HIDDEN void XI(gemm_run_avx512)(size_t M, size_t kc, size_t N,
                                     size_t q0, size_t q1, int transa,
                                     const R *A, size_t lda, const R *Ap,
                                     const R *P, R *C, size_t ldc, int zero);

#endif /* BPTT_KERNELS_RECURRENCE_H */
