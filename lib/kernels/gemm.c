/*
 * gemm.c — the whole-sequence products on the BLAS or on bptt's own GEMM
 * (kernels/gemm.h).
 *
 * Why an own GEMM at all: a BLAS that does not know the CPU falls back to
 * old kernels (Debian 12's OpenBLAS 0.3.21 runs its SSE3 "Prescott" kernels
 * on current Xeons), and a library cannot change that once OpenBLAS has
 * loaded; and the BLAS's threads are not the workspace's, so a BLAS GEMM
 * between two time loops leaves its threads spinning on the cores the
 * recurrence needs.  bptt's kernels pick their instruction set from the
 * CPU itself (when to use the own GEMM: bptt_own_gemm, kernels/isa.c).
 *
 * Blocking (docs/algorithms.md, "bptt's own GEMM"): each thread owns a
 * range of op(B)'s column panels; it packs a chunk of them, kc terms deep,
 * sized to stay in its core's L2, and the micro-kernel (microkernel.c)
 * sweeps that chunk once per BPTT_GEMM_MR rows of op(A), read in place
 * from A's rows or, when A is transposed, from the block of op(A) that all
 * the threads pack first, each its share of the row groups (one barrier
 * after the packing, one before the next block's).  A thread writes only
 * its own columns of C.
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
    size_t M1; /* transa: op(A)'s rows from M1 on are A2's columns */
    const R *A2;
    size_t lda2;
    R beta, *C, *scratch;
    size_t ldc;
} gemm_job;

/* Bytes of packed op(B) a thread works on at a time (BPTT_GEMM_KC terms
 * times the columns of a chunk of panels), swept by the micro-kernel once
 * per BPTT_GEMM_MR rows of op(A): about an L2 (1 MiB on Zen 4 and
 * Skylake-SP).  Smaller chunks measured slower: op(A) is then read again
 * per chunk. */
#define GEMM_CHUNK_BYTES ((size_t)1024 * 1024)

static void gemm_share(void *arg, int tid, int nth)
{
    const gemm_job *g = arg;
    const size_t nr = g->k->nr, panels = XI(rec_panels)(g->N, nr);
    const size_t q0 = panels * (size_t)tid / (size_t)nth;
    const size_t q1 = panels * (size_t)(tid + 1) / (size_t)nth;
    const size_t c0 = q0 * nr < g->N ? q0 * nr : g->N;
    const size_t c1 = q1 * nr < g->N ? q1 * nr : g->N;
    const size_t KC = BPTT_GEMM_KC, kcmax = g->K < KC ? g->K : KC;
    /* beta = 0: the first block's sums start at +0 instead of on a C
     * zeroed first (the same values, one pass over C less) */
    if (g->beta != 0 || kcmax == 0)
        XI(scale)(g->M, c1 - c0, g->beta, g->C + c0, g->ldc);
    if (kcmax == 0)
        return;
    size_t qc = GEMM_CHUNK_BYTES / (kcmax * nr * sizeof(R));
    qc = qc ? qc : 1;
    /* op(A) = Aᵀ: its groups of BPTT_GEMM_MR rows packed once per block by
     * all the threads, each its share, into the scratch after op(B)'s
     * block (kernels/gemm.h) */
    const size_t p = BPTT_PANEL_BYTES / sizeof(R);
    const size_t groups = g->transa ? g->M / BPTT_GEMM_MR : 0;
    const size_t g0 = groups * (size_t)tid / (size_t)nth;
    const size_t g1 = groups * (size_t)(tid + 1) / (size_t)nth;
    R *Apack = groups ? g->scratch + kcmax * ((g->N + p - 1) / p * p) : NULL;
    for (size_t k0 = 0; k0 < g->K; k0 += KC) {
        const size_t kc = g->K - k0 < KC ? g->K - k0 : KC;
        const int zero = g->beta == 0 && k0 == 0;
        /* op(A)'s columns k0..: A's rows k0.. when transposed */
        const R *Ak = g->transa ? g->A + k0 * g->lda : g->A + k0;
        const R *A2k = g->M1 < g->M ? g->A2 + k0 * g->lda2 : NULL;
        if (groups) {
            XI(gemm_pack_a)(kc, Ak, g->lda, g->M1, A2k, g->lda2, g0, g1,
                            Apack);
            bptt__pool_barrier(g->pool, nth); /* the whole block packed */
        }
        /* Each element's terms in order of k: every chunk of columns
         * takes block k0 before block k0 + KC. */
        for (size_t qa = q0; qa < q1; qa += qc) {
            const size_t np = q1 - qa < qc ? q1 - qa : qc, ca = qa * nr;
            /* the chunk's panels where its first would be in a block of
             * kcmax rows of all of op(B)'s panels: the threads' never
             * meet */
            R *Bpack = g->scratch + qa * kcmax * nr;
            /* rows k0.. of op(B) from column ca: B's rows, or B's
             * columns when transposed */
            const R *Bk = g->transb ? g->B + ca * g->ldb + k0
                                    : g->B + k0 * g->ldb + ca;
            XI(rec_pack)(g->transb, kc, g->N - ca, Bk, g->ldb, nr, 0, np,
                         Bpack);
            /* the last partial group (the kernel packs it) lies in A2
             * when there is one (XI(gemm_split)) */
            const size_t full = groups * BPTT_GEMM_MR;
            if (full == g->M || !A2k)
                g->k->gemm(g->M, kc, g->N - ca, 0, np, g->transa, Ak,
                           g->lda, Apack, Bpack, g->C + ca, g->ldc, zero);
            else {
                g->k->gemm(full, kc, g->N - ca, 0, np, 1, Ak, g->lda, Apack,
                           Bpack, g->C + ca, g->ldc, zero);
                g->k->gemm(g->M - full, kc, g->N - ca, 0, np, 1,
                           A2k + (full - g->M1), g->lda2, NULL, Bpack,
                           g->C + full * g->ldc + ca, g->ldc, zero);
            }
        }
        if (groups)
            bptt__pool_barrier(g->pool, nth); /* before the next block's */
    }
}

/* M·N·K below which one thread does the whole own GEMM. */
#define MIN_SHARED_GEMM ((double)(1 << 18))

/* The own GEMM's job on the pool. */
static void gemm_own(gemm_job *g)
{
    int nth = bptt__pool_threads(g->pool);
    if ((double)g->M * (double)g->N * (double)g->K < MIN_SHARED_GEMM)
        nth = 1;
    bptt__pool_run(g->pool, nth, gemm_share, g);
}

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
                  B, lda, ldb, M, NULL, 0, beta, C, scratch, ldc};
    gemm_own(&g);
}

void XI(gemm_split)(size_t M1, size_t M, size_t N, size_t K, const R *A,
                    size_t lda, const R *A2, size_t lda2, const R *B,
                    size_t ldb, R beta, R *C, size_t ldc, bptt__pool *pool,
                    R *scratch)
{
    /* One product only where the last partial group of rows lies past
     * M1 (gemm_share); else, and on the BLAS, the two. */
    const size_t full = M / BPTT_GEMM_MR * BPTT_GEMM_MR;
    if (!bptt__gemm_own() || M1 == 0 || M1 >= M || (full < M && full < M1)) {
        XI(gemm)(1, 0, M1, N, K, A, lda, B, ldb, beta, C, ldc, pool,
                 scratch);
        XI(gemm)(1, 0, M - M1, N, K, A2, lda2, B, ldb, beta, C + M1 * ldc,
                 ldc, pool, scratch);
        return;
    }
    gemm_job g = {XI(rec_kernel_get)(), pool, 1, 0, M, N, K, A, B, lda, ldb,
                  M1, A2, lda2, beta, C, scratch, ldc};
    gemm_own(&g);
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
