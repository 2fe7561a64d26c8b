/*
 * dispatch.c — the choice of recurrence kernel by instruction set and the
 * packing of its operand (kernels/recurrence.h).  Compiled once per
 * precision.
 */
#include "kernels/recurrence.h"

const XI(rec_kernel) *XI(rec_kernel_get)(void)
{
    /* Panel widths: two vectors of 16, 32 or 64 bytes. */
    static const XI(rec_kernel) sse = {BPTT_ISA_SSE, 32 / sizeof(R),
                                       XI(rec_run_sse)};
#ifdef BPTT_HAVE_X86_KERNELS
    static const XI(rec_kernel) avx2 = {BPTT_ISA_AVX2, 64 / sizeof(R),
                                        XI(rec_run_avx2)};
    static const XI(rec_kernel) avx512 = {BPTT_ISA_AVX512, 128 / sizeof(R),
                                          XI(rec_run_avx512)};
    switch (bptt_kernel_isa()) {
    case BPTT_ISA_AVX512:
        return &avx512;
    case BPTT_ISA_AVX2:
        return &avx2;
    default:
        break;
    }
#endif
    return &sse;
}

void XI(rec_pack)(int trans, size_t K, size_t N, const R *M, size_t ldm,
                  size_t nr, size_t q0, size_t q1, R *P)
{
    for (size_t q = q0; q < q1; q++) {
        R *panel = P + q * K * nr;
        const size_t c0 = q * nr, w = N - c0 < nr ? N - c0 : nr;
        for (size_t j = 0; j < K; j++) {
            R *row = panel + j * nr;
            size_t c = 0;
            if (trans)
                for (; c < w; c++)
                    row[c] = M[(c0 + c) * ldm + j];
            else
                for (; c < w; c++)
                    row[c] = M[j * ldm + c0 + c];
            for (; c < nr; c++)
                row[c] = 0;
        }
    }
}
