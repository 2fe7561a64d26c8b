/*
 * recurrence.c — the recurrence kernel C += A·P over a packed P
 * (kernels/recurrence.h), written once with the compiler's vector
 * extensions and compiled once per instruction set and precision: meson
 * passes BPTT_KISA (sse, avx2, avx512), BPTT_KISA_BYTES (the vector width:
 * 16, 32, 64) and the matching -m flags.  The sse build uses no flag beyond
 * x86-64's baseline and is the portable C kernel on any other CPU.
 *
 * Register tiles: rows of A in blocks of MR = 4 against NPB panels (two
 * vectors each) for B >= 4; a single row against NP1 panels otherwise, so
 * that even B = 1 keeps 2·NP1 independent accumulators in flight.  Each
 * element's sum is the same chain of multiply-adds in j whichever tile
 * computes it (kernels/recurrence.h).
 *
 * The compilers end the AVX builds' functions (and precede their calls)
 * with vzeroupper, so the SSE code of libm that runs next (the
 * activations) does not pay for a dirty upper vector state.
 *
 * This file is compiled with -ffp-contract=fast so that `acc += a * p`
 * becomes one fused multiply-add where the ISA has FMA: one rounding per
 * term instead of two.  That is not -ffast-math: nothing is reassociated,
 * NaN and Inf keep their IEEE meaning.
 */
#include "kernels/recurrence.h"
#include "kernels/vec.h"

#define RUN KGLUE(XI(rec_run_), BPTT_KISA)

enum { MR = 4 };
/* AVX-512 has 32 vector registers, the others 16: 4x2 panels is 16
 * accumulators + 4 operands, 1x4 panels 8 + 8; with 16 registers 4x1
 * panel (8 + 2) and 1x3 panels (6 + 6). */
#if BPTT_KISA_BYTES == 64
enum { NPB = 2, NP1 = 4 };
#else
enum { NPB = 1, NP1 = 3 };
#endif

/* C[r][c] += Σ_j A[r][j]·P[j][c] for mr rows and the ncols (<= np·NR)
 * columns of np consecutive panels; mr and np are constants at every call,
 * so the loops over them unroll and acc stays in registers. */
static inline __attribute__((always_inline)) void
tile(const int mr, const int np, size_t K, const R *A, size_t lda,
     size_t acs, const R *P, R *C, size_t ldc, size_t ncols)
{
    vec acc[MR][2 * NP1];
    const int nv = 2 * np;
    const size_t pstride = K * NR;
    const int full = ncols == (size_t)np * NR;
    R edge[MR][2 * NP1 * VL]; /* the last, partial tile of a row */
    for (int r = 0; r < mr; r++) {
        const R *c = C + r * ldc;
        if (!full) {
            memset(edge[r], 0, sizeof edge[r]);
            memcpy(edge[r], c, ncols * sizeof(R));
            c = edge[r];
        }
        for (int v = 0; v < nv; v++)
            acc[r][v] = vload(c + v * VL);
    }
    for (size_t j = 0; j < K; j++) {
        vec p[2 * NP1];
        for (int v = 0; v < nv; v++)
            p[v] = vload(P + (size_t)(v >> 1) * pstride + j * NR +
                         (size_t)(v & 1) * VL);
        for (int r = 0; r < mr; r++) {
            const vec a = A[r * lda + j * acs] - (vec){0}; /* broadcast, exact */
            for (int v = 0; v < nv; v++)
                acc[r][v] += a * p[v];
        }
    }
    for (int r = 0; r < mr; r++) {
        R *c = full ? C + r * ldc : edge[r];
        for (int v = 0; v < nv; v++)
            vstore(c + v * VL, acc[r][v]);
        if (!full)
            memcpy(C + r * ldc, edge[r], ncols * sizeof(R));
    }
}

void RUN(size_t B, size_t K, size_t N, size_t q0, size_t q1, const R *A,
         size_t lda, size_t acs, const R *P, R *C, size_t ldc)
{
    const size_t pstride = K * NR;
    size_t b = 0;
    /* Blocks of MR rows: each group of NPB panels is read once per block
     * from cache and reused across the block's rows. */
    for (; b + MR <= B; b += MR) {
        const R *a = A + b * lda;
        R *c = C + b * ldc;
        size_t q = q0;
        for (; q + NPB <= q1; q += NPB)
            tile(MR, NPB, K, a, lda, acs, P + q * pstride, c + q * NR, ldc,
                 panel_cols(N, q, NPB));
        for (; q < q1; q++)
            tile(MR, 1, K, a, lda, acs, P + q * pstride, c + q * NR, ldc,
                 panel_cols(N, q, 1));
    }
    /* Remaining rows one by one, several panels at once (B = 1: GEMV). */
    for (; b < B; b++) {
        const R *a = A + b * lda;
        R *c = C + b * ldc;
        size_t q = q0;
        for (; q + NP1 <= q1; q += NP1)
            tile(1, NP1, K, a, lda, acs, P + q * pstride, c + q * NR, ldc,
                 panel_cols(N, q, NP1));
        for (; q + 2 <= q1; q += 2)
            tile(1, 2, K, a, lda, acs, P + q * pstride, c + q * NR, ldc,
                 panel_cols(N, q, 2));
        for (; q < q1; q++)
            tile(1, 1, K, a, lda, acs, P + q * pstride, c + q * NR, ldc,
                 panel_cols(N, q, 1));
    }
}
