/*
 * gemm.c — the whole-sequence products on the BLAS or on bptt's own GEMM
 * (kernels/gemm.h).
 *
 * Why an own GEMM at all: a BLAS that does not know the CPU falls back to
 * old kernels (Debian 12's OpenBLAS 0.3.21 runs its SSE3 "Prescott" kernels
 * on current Xeons), and a library cannot change that once OpenBLAS has
 * loaded; and the BLAS's threads are not the workspace's, so a BLAS GEMM
 * between two time loops leaves its threads spinning on the cores the
 * recurrence needs.  bptt's recurrence kernel picks its instruction set
 * from the CPU itself; with the right operand packed in blocks of
 * BPTT_GEMM_KC rows it is a GEMM whose tiles stream the packed panels from
 * cache (when to use it: bptt_own_gemm, kernels/isa.c).
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

/* An own GEMM, shared by columns between the threads of a pool run. */
typedef struct gemm_job {
    const XI(rec_kernel) *k;
    bptt__pool *pool;
    int transa, transb;
    size_t M, N, K;
    const R *A, *B;
    size_t lda, ldb;
    R beta, *C, *scratch;
    size_t ldc;
} gemm_job;

static void gemm_share(void *arg, int tid, int nth)
{
    const gemm_job *g = arg;
    const size_t nr = g->k->nr, panels = XI(rec_panels)(g->N, nr);
    const size_t q0 = panels * (size_t)tid / (size_t)nth;
    const size_t q1 = panels * (size_t)(tid + 1) / (size_t)nth;
    const size_t c0 = q0 * nr < g->N ? q0 * nr : g->N;
    const size_t c1 = q1 * nr < g->N ? q1 * nr : g->N;
    /* this thread's rows of a transposed A's block */
    const size_t r0 = g->M * (size_t)tid / (size_t)nth;
    const size_t r1 = g->M * (size_t)(tid + 1) / (size_t)nth;
    XI(scale)(g->M, c1 - c0, g->beta, g->C + c0, g->ldc);
    for (size_t k0 = 0; k0 < g->K; k0 += BPTT_GEMM_KC) {
        const size_t kc = g->K - k0 < BPTT_GEMM_KC ? g->K - k0 : BPTT_GEMM_KC;
        R *Bpack = g->scratch;
        const R *Ak = g->A + k0;
        size_t lda = g->lda;
        if (g->transa) {
            /* op(A) = Aᵀ: its block copied row-major, so that a tile's rows
             * are contiguous (read in place, terms lda elements apart map
             * onto few cache sets); A's rows read in order, each thread
             * copying its share of op(A)'s rows */
            R *Apack = g->scratch + kc * panels * nr; /* after op(B)'s */
            /* in TB x TB squares: a cache line of A's row and of Apack's
             * row each serve TB elements (row by row, Apack's rows are kc
             * elements apart and every write would miss) */
            enum { TB = 16 };
            for (size_t jb = 0; jb < kc; jb += TB)
                for (size_t rb = r0; rb < r1; rb += TB) {
                    const size_t je = jb + TB < kc ? jb + TB : kc;
                    const size_t re = rb + TB < r1 ? rb + TB : r1;
                    for (size_t j = jb; j < je; j++)
                        for (size_t r = rb; r < re; r++)
                            Apack[r * kc + j] = g->A[(k0 + j) * g->lda + r];
                }
            bptt__pool_barrier(g->pool, nth); /* the whole block copied */
            Ak = Apack;
            lda = kc;
        }
        /* rows k0.. of op(B): B's rows, or B's columns when transposed */
        const R *Bk = g->transb ? g->B + k0 : g->B + k0 * g->ldb;
        XI(rec_pack)(g->transb, kc, g->N, Bk, g->ldb, nr, q0, q1, Bpack);
        g->k->run(g->M, kc, g->N, q0, q1, Ak, lda, 1, Bpack, g->C, g->ldc);
        if (g->transa)
            bptt__pool_barrier(g->pool, nth); /* before the next copy */
    }
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
    gemm_job g = {XI(rec_kernel_get)(), pool, transa, transb, M, N, K, A,
                  B, lda, ldb, beta, C, scratch, ldc};
    int nth = bptt__pool_threads(pool);
    if ((double)M * (double)N * (double)K < MIN_SHARED_GEMM)
        nth = 1;
    bptt__pool_run(pool, nth, gemm_share, &g);
}

void XI(rows_times)(int wt, size_t B, size_t N, size_t K, const R *S,
                    size_t lds, const R *W, size_t ldw, R beta, R *Z,
                    size_t ldz)
{
    if (B == 1) /* z = W·s (wt) or Wᵀ·s */
        CBLAS(gemv)(CblasRowMajor, wt ? CblasNoTrans : CblasTrans,
                    (int)(wt ? N : K), (int)(wt ? K : N), 1, W, (int)ldw, S,
                    1, beta, Z, 1);
    else
        CBLAS(gemm)(CblasRowMajor, CblasNoTrans, wt ? CblasTrans : CblasNoTrans,
                    (int)B, (int)N, (int)K, 1, S, (int)lds, W, (int)ldw, beta,
                    Z, (int)ldz);
}

void XI(rank_update)(size_t B, size_t M, size_t N, const R *D, size_t ldd,
                     const R *S, size_t lds, R *C, size_t ldc)
{
    if (B == 1)
        CBLAS(ger)(CblasRowMajor, (int)M, (int)N, 1, D, 1, S, 1, C, (int)ldc);
    else
        CBLAS(gemm)(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M, (int)N,
                    (int)B, 1, D, (int)ldd, S, (int)lds, 1, C, (int)ldc);
}

void XI(add_bias)(size_t rows, size_t n, const R *b, R *Z, size_t ldz)
{
    for (size_t k = 0; k < rows; k++)
        for (size_t i = 0; i < n; i++)
            Z[k * ldz + i] += b[i];
}
