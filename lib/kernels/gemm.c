/*
 * gemm.c — the whole-sequence products on the BLAS or on bptt's own GEMM
 * (kernels/gemm.h).
 *
 * Why an own GEMM at all: a BLAS that does not know the CPU falls back to
 * old kernels (Debian 12's OpenBLAS 0.3.21 runs its SSE3 "Prescott" kernels
 * on current Xeons), and a library cannot change that once OpenBLAS has
 * loaded.  bptt's recurrence kernel picks its instruction set from the CPU
 * itself; with the right operand packed in blocks of BPTT_GEMM_KC rows it is
 * a GEMM whose tiles stream the packed panels from cache.  With a BLAS
 * whose kernels match the CPU, the BLAS is faster and is used.
 */
#include "kernels/gemm.h"

void XI(scale)(size_t rows, size_t cols, R beta, R *A, size_t lda)
{
    if (beta == 1)
        return;
    for (size_t i = 0; i < rows; i++) {
        R *a = A + i * lda;
        if (beta == 0) {
            for (size_t j = 0; j < cols; j++)
                a[j] = 0;
        } else {
            for (size_t j = 0; j < cols; j++)
                a[j] *= beta;
        }
    }
}

/* One K-block of an own GEMM, shared by columns between threads. */
typedef struct gemm_job {
    const XI(rec_kernel) *k;
    int transb;
    size_t M, N, k0, kc;
    const R *A, *B; /* A: this block's columns of op(A), row-major, ld lda */
    size_t lda, ldb;
    R beta, *C, *Bpack;
    size_t ldc;
} gemm_job;

static void gemm_share(void *arg, int tid, int nth)
{
    const gemm_job *g = arg;
    const size_t nr = g->k->nr, panels = XI(rec_panels)(g->N, nr);
    const size_t q0 = panels * (size_t)tid / (size_t)nth;
    const size_t q1 = panels * (size_t)(tid + 1) / (size_t)nth;
    if (q0 == q1)
        return;
    const size_t c0 = q0 * nr, c1 = q1 * nr < g->N ? q1 * nr : g->N;
    if (g->k0 == 0)
        XI(scale)(g->M, c1 - c0, g->beta, g->C + c0, g->ldc);
    /* rows k0.. of op(B): B's rows, or B's columns when transposed */
    const R *Bk = g->transb ? g->B + g->k0 : g->B + g->k0 * g->ldb;
    XI(rec_pack)(g->transb, g->kc, g->N, Bk, g->ldb, nr, q0, q1, g->Bpack);
    g->k->run(g->M, g->kc, g->N, q0, q1, g->A, g->lda, 1, g->Bpack, g->C,
              g->ldc);
}

/* M·N·K below which one thread does the whole own GEMM. */
#define MIN_SHARED_GEMM ((double)(1 << 18))

void XI(gemm)(int transa, int transb, size_t M, size_t N, size_t K,
              const R *A, size_t lda, const R *B, size_t ldb, R beta, R *C,
              size_t ldc, bptt__pool *pool, R *scratch)
{
    if (!bptt__gemm_own()) {
        CBLAS(gemm)(CblasRowMajor, transa ? CblasTrans : CblasNoTrans,
                    transb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                    (int)K, 1, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
        return;
    }
    const XI(rec_kernel) *k = XI(rec_kernel_get)();
    const size_t Nfull = XI(rec_panels)(N, k->nr) * k->nr;
    int nth = bptt__pool_threads(pool);
    if ((double)M * (double)N * (double)K < MIN_SHARED_GEMM)
        nth = 1;
    for (size_t k0 = 0; k0 < K; k0 += BPTT_GEMM_KC) {
        const size_t kc = K - k0 < BPTT_GEMM_KC ? K - k0 : BPTT_GEMM_KC;
        R *Apack = scratch + kc * Nfull; /* after the block of op(B) */
        gemm_job g = {k, transb, M, N, k0, kc, A + k0, B, lda, ldb, beta, C,
                      scratch, ldc};
        if (transa) {
            /* op(A) = Aᵀ: its block copied row-major, so that a tile's
             * rows are contiguous (read in place, a stride of lda elements
             * per term maps them onto few cache sets) */
            for (size_t r = 0; r < M; r++)
                for (size_t j = 0; j < kc; j++)
                    Apack[r * kc + j] = A[(k0 + j) * lda + r];
            g.A = Apack;
            g.lda = kc;
        }
        bptt__pool_run(pool, nth, gemm_share, &g);
    }
}
