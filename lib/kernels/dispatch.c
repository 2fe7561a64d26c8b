/*
 * dispatch.c — the choice of recurrence and GEMM kernels by instruction
 * set (kernels/recurrence.h).  Compiled once per precision.
 */
#include "kernels/recurrence.h"

const XI(rec_kernel) *XI(rec_kernel_get)(void)
{
    /* Panel widths: two vectors of 16, 32 or 64 bytes. */
    static const XI(rec_kernel) sse = {BPTT_ISA_SSE, 32 / sizeof(R),
                                       XI(rec_run_sse), XI(gemm_run_sse)};
#ifdef BPTT_HAVE_X86_KERNELS
    static const XI(rec_kernel) avx2 = {BPTT_ISA_AVX2, 64 / sizeof(R),
                                        XI(rec_run_avx2),
                                        XI(gemm_run_avx2)};
    static const XI(rec_kernel) avx512 = {BPTT_ISA_AVX512, 128 / sizeof(R),
                                          XI(rec_run_avx512),
                                          XI(gemm_run_avx512)};
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
