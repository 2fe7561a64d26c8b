/*
 * bptt/cpu.h — the vector instruction sets bptt knows, which one the CPU
 * offers and which one bptt's own kernels run.  Include <bptt.h> rather
 * than this file.
 */
#ifndef BPTT_CPU_H
#define BPTT_CPU_H

#include "bptt/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x86-64 vector instruction-set levels, weakest first, so that levels
 * compare with < and >. */
typedef enum bptt_isa {
    BPTT_ISA_UNKNOWN = 0, /* not known (e.g. a BLAS kernel of unknown name) */
    BPTT_ISA_SSE,         /* 128-bit SSE2..SSE4: x86-64's baseline; also
                             bptt's portable C kernels on any CPU */
    BPTT_ISA_AVX,         /* 256-bit AVX without FMA */
    BPTT_ISA_AVX2,        /* 256-bit AVX2 with FMA3 */
    BPTT_ISA_AVX512,      /* 512-bit AVX-512 F, VL, DQ and BW */
    BPTT_NISA             /* number of levels; not a level */
} bptt_isa;

/* A fixed lower-case name ("unknown", "sse", "avx", "avx2", "avx512");
 * "invalid" for a value outside the enum.  Static storage. */
BPTT_API const char *bptt_isa_name(bptt_isa isa);

/* The widest level this CPU runs, from its CPUID feature flags checked
 * against what the operating system saves (XCR0), so a level the kernel
 * does not enable is not reported.  BPTT_ISA_SSE on a CPU that is not
 * x86-64. */
BPTT_API bptt_isa bptt_cpu_isa(void);

/* The level bptt's own kernels run: bptt_cpu_isa() capped by the
 * environment variable BPTT_MAX_ISA ("sse", "avx2" or "avx512"; read once,
 * at the first call of any bptt function that dispatches; an unknown value
 * is ignored).  Kernels exist for sse (portable C), avx2 and avx512; a CPU
 * with AVX but not AVX2 runs the sse kernels.  The cap exists so that every
 * kernel can be tested on the widest machine. */
BPTT_API bptt_isa bptt_kernel_isa(void);

/* 1 when the whole-sequence products (forward's input projection,
 * backward's dL/dW and dL/dx) run on bptt's own GEMM, 0 when on the BLAS.
 * bptt's own GEMM runs on bptt_kernel_isa()'s kernels and on the
 * workspace's threads (bptt_workspace_set_threads); it is the default
 * wherever bptt_kernel_isa() is avx2 or avx512, so that a BLAS running
 * kernels weaker than the CPU (bptt_blas_info_get) costs nothing and every
 * thread count gives the same bits.  The BLAS serves the sse level.  The
 * environment variable BPTT_GEMM ("bptt" or "blas", read once, at the
 * first call that needs it) forces the choice. */
BPTT_API int bptt_own_gemm(void);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_CPU_H */
