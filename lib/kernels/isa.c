/*
 * isa.c — which vector instruction set the CPU offers and which one bptt's
 * kernels run (bptt_cpu_isa, bptt_kernel_isa, bptt_isa_name).
 *
 * The CPU's level comes from GCC's/clang's __builtin_cpu_supports, which
 * reads CPUID and also checks that the OS saves the wider registers (XCR0),
 * so an AVX-512 CPU under a kernel that does not enable it reports AVX2.
 * The decision is made once and cached: it cannot change while the process
 * runs, and the kernels' choice must not change between calls (bitwise
 * reproducibility).
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/isa.h"

const char *bptt_isa_name(bptt_isa isa)
{
    static const char *const name[BPTT_NISA] = {
        [BPTT_ISA_UNKNOWN] = "unknown", [BPTT_ISA_SSE] = "sse",
        [BPTT_ISA_AVX] = "avx",         [BPTT_ISA_AVX2] = "avx2",
        [BPTT_ISA_AVX512] = "avx512",
    };
    if ((unsigned)isa >= BPTT_NISA)
        return "invalid";
    return name[isa];
}

bptt_isa bptt_cpu_isa(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return BPTT_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return BPTT_ISA_AVX2;
    if (__builtin_cpu_supports("avx"))
        return BPTT_ISA_AVX;
#endif
    return BPTT_ISA_SSE;
}

/* The kernel level for a CPU level and a cap (BPTT_MAX_ISA's value, or
 * NULL): the widest of sse/avx2/avx512 at most both. */
static bptt_isa kernel_level(bptt_isa cpu, const char *cap)
{
    bptt_isa level = cpu >= BPTT_ISA_AVX512 ? BPTT_ISA_AVX512
                     : cpu >= BPTT_ISA_AVX2 ? BPTT_ISA_AVX2
                                            : BPTT_ISA_SSE;
    if (cap) {
        bptt_isa max = BPTT_NISA;
        if (strcmp(cap, "sse") == 0)
            max = BPTT_ISA_SSE;
        else if (strcmp(cap, "avx2") == 0)
            max = BPTT_ISA_AVX2;
        else if (strcmp(cap, "avx512") == 0)
            max = BPTT_ISA_AVX512;
        if (level > max)
            level = max;
    }
    return level;
}

bptt_isa bptt_kernel_isa(void)
{
    /* Racing first calls compute the same value; the int store is atomic
     * on every platform bptt builds for, and relaxed order is enough for a
     * value that never changes once set. */
    static _Atomic int cached = -1;
    int v = cached;
    if (v < 0) {
        v = (int)kernel_level(bptt_cpu_isa(), getenv("BPTT_MAX_ISA"));
        cached = v;
    }
    return (bptt_isa)v;
}

/* BPTT_GEMM=bptt or blas forces the choice (the tests run both).  By
 * default the products run on bptt's own GEMM wherever its kernels have
 * FMA-class vectors (avx2, avx512): then every product of a call runs on
 * the workspace's own threads, split the same way for every thread count
 * (bitwise reproducible), with no BLAS thread left spinning on a core the
 * recurrence needs, and the BLAS's kernel choice (right or wrong for this
 * CPU) no longer matters.  On the sse level the BLAS is used. */
int bptt_own_gemm(void)
{
    static _Atomic int cached = -1;
    int v = cached;
    if (v < 0) {
        const char *force = getenv("BPTT_GEMM");
        if (force && strcmp(force, "bptt") == 0)
            v = 1;
        else if (force && strcmp(force, "blas") == 0)
            v = 0;
        else
            v = bptt_kernel_isa() >= BPTT_ISA_AVX2;
        cached = v;
    }
    return v;
}
