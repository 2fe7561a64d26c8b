/*
 * microkernel.c — the register-blocked kernel of bptt's own GEMM
 * (kernels/gemm.c): C += op(A)·P for one block of kc ≤ BPTT_GEMM_KC terms,
 * P packed in panels of NR columns as for the recurrence kernel
 * (kernels/recurrence.h).  Compiled once per instruction set and precision,
 * like recurrence.c (kernels/vec.h).
 *
 * The recurrence kernel's tiles suit a product B rows deep; over the whole
 * sequence's T·B rows they load 6 operands per 8 multiply-adds with AVX2
 * (4 rows x 1 panel: 2 vectors and 4 broadcasts) and re-read P's packed
 * block from L2 every 4 rows.
 * Here a tile is MR = 6 rows x NP panels: 6 x 4 vectors (24 accumulators,
 * 10 loads and broadcasts per 24 multiply-adds) with AVX-512's 32
 * registers, 6 x 2 (12, 8 per 12) with 16.  On a Zen 4 (one thread, CPU
 * time, 2026-11-27) 6 x 4 was level with or ahead of 14 x 2 (16 loads per
 * 28; up to 20% slower), 7 x 4 and 8 x 4 on every product tried.  A's MR
 * rows are read in place when op(A) = A (MR streams along its rows, which
 * the cache follows); op(A) = Aᵀ's are packed into micro-panels (kc x MR,
 * the broadcasts read them in order: in place they would be rows of A 4
 * KiB apart that evict each other), by gemm.c for the whole block
 * (kernels/recurrence.h, XI(gemm_pack_a)), here for a last partial one; a
 * micro-panel stays in L1 while the tile sweeps every panel of the chunk
 * gemm.c packed.
 *
 * Each element's sum is the recurrence kernel's chain, C[b][i] +
 * A[b][0]·P[0][i] + A[b][1]·P[1][i] + ... in order of j, one fused
 * multiply-add per term where the ISA has FMA (-ffp-contract=fast, as
 * recurrence.c): same results bitwise, whatever the tile, the rows' place
 * in it or the thread that computes it.  Rows past M are zeros in the
 * micro-panel and columns past N zeros in P; the partial tiles run on a
 * copy of C's valid part, so nothing outside C's M x N is read or written,
 * and a tile never reads a panel past q1.
 */
#include "kernels/gemm.h" /* BPTT_GEMM_KC */
#include "kernels/vec.h"

#define GRUN KGLUE(XI(gemm_run_), BPTT_KISA)

/* The tile: MR rows x NP panels (NV vectors); see the top of the file. */
#if BPTT_KISA_BYTES == 64
enum { MR = BPTT_GEMM_MR, NP = 2 };
#else
enum { MR = BPTT_GEMM_MR, NP = 1 };
#endif
enum { NV = 2 * NP };

/* C[r][c] += Σ_j a[r·rs + j·cs]·P[j][c] for the tile of MR rows and np
 * panels (np·NR columns, panel after panel kc·NR elements apart from Bp)
 * at C (ld ldc): a is a packed micro-panel (rs = 1, cs = MR) or A's rows in
 * place (rs = lda, cs = 1); zero: from +0 instead of C. */
static inline __attribute__((always_inline)) void
micro(const int np, size_t kc, const R *restrict a, size_t rs, size_t cs,
      const R *restrict Bp, R *restrict C, size_t ldc, int zero)
{
    vec acc[MR][NV];
    const int nv = 2 * np;
    const size_t ps = kc * NR; /* from one panel to the next */
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < nv; v++)
            acc[r][v] = zero ? (vec){0}
                             : vload(C + (size_t)r * ldc + (size_t)v * VL);
    for (size_t j = 0; j < kc; j++) {
        vec p[NV];
        for (int v = 0; v < nv; v++)
            p[v] = vload(Bp + (size_t)(v >> 1) * ps + j * NR +
                         (size_t)(v & 1) * VL);
        for (int r = 0; r < MR; r++) {
            /* broadcast, exact */
            const vec ar = a[(size_t)r * rs + j * cs] - (vec){0};
            for (int v = 0; v < nv; v++)
                acc[r][v] += ar * p[v];
        }
    }
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < nv; v++)
            vstore(C + (size_t)r * ldc + (size_t)v * VL, acc[r][v]);
}

/* Ap[j][r] = op(A)[r][j] for r < mr, j < kc, zero for mr <= r < MR. */
static void pack_rows(int transa, size_t mr, size_t kc, const R *A,
                      size_t lda, R *restrict Ap)
{
    for (size_t j = 0; j < kc; j++) {
        R *ap = Ap + j * MR;
        size_t r = 0;
        if (transa) /* op(A) = Aᵀ: its column j is A's row j, contiguous */
            for (; r < mr; r++)
                ap[r] = A[j * lda + r];
        else
            for (; r < mr; r++)
                ap[r] = A[r * lda + j];
        for (; r < MR; r++)
            ap[r] = 0;
    }
}

/* The tile of mr <= MR rows and np panels, nc of their columns below N: a
 * full one on C in place, a partial one on a copy of C's valid part. */
static inline __attribute__((always_inline)) void
tile(const int np, size_t mr, size_t nc, size_t kc, const R *a, size_t rs,
     size_t cs, const R *Bp, R *C, size_t ldc, int zero)
{
    if (mr == MR && nc == (size_t)np * NR) {
        micro(np, kc, a, rs, cs, Bp, C, ldc, zero);
        return;
    }
    R edge[MR * NV * VL] = {0};
    for (size_t r = 0; r < mr && !zero; r++)
        memcpy(edge + r * NV * VL, C + r * ldc, nc * sizeof(R));
    micro(np, kc, a, rs, cs, Bp, edge, NV * VL, zero);
    for (size_t r = 0; r < mr; r++)
        memcpy(C + r * ldc, edge + r * NV * VL, nc * sizeof(R));
}

void GRUN(size_t M, size_t kc, size_t N, size_t q0, size_t q1, int transa,
          const R *A, size_t lda, const R *Ap, const R *P, R *C, size_t ldc,
          int zero)
{
    _Alignas(64) R own[MR * BPTT_GEMM_KC]; /* no allocation in a hot call */
    for (size_t i = 0; i < M; i += MR) {
        const size_t mr = M - i < MR ? M - i : MR;
        /* A's MR rows packed by the caller, or in place when they are rows
         * (MR streams the cache follows), or packed here */
        const R *a = own;
        size_t rs = 1, cs = MR;
        if (Ap && mr == MR)
            a = Ap + i * kc;
        else if (!transa && mr == MR)
            a = A + i * lda, rs = lda, cs = 1;
        else
            pack_rows(transa, mr, kc, transa ? A + i : A + i * lda, lda, own);
        size_t q = q0;
        for (; q + NP <= q1; q += NP)
            tile(NP, mr, panel_cols(N, q, NP), kc, a, rs, cs,
                 P + q * kc * NR, C + i * ldc + q * NR, ldc, zero);
        for (; q < q1; q++)
            tile(1, mr, panel_cols(N, q, 1), kc, a, rs, cs, P + q * kc * NR,
                 C + i * ldc + q * NR, ldc, zero);
    }
}
