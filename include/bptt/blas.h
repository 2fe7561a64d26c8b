/*
 * bptt/blas.h — which BLAS the process runs, and whether its kernels are
 * weaker than the CPU.  Include <bptt.h> rather than this file.
 *
 * The same BLAS library can run very different kernels: OpenBLAS built
 * with DYNAMIC_ARCH picks a set of kernels by CPU model when it loads, and
 * falls back to old SSE kernels ("Prescott") on a model it does not know —
 * OpenBLAS 0.3.21 on a recent AVX-512 server runs its GEMM 3-5 times below
 * what the CPU can do.  Every timing of bptt's BLAS-bound work depends on
 * this, so a benchmark or a program that reports figures should report this
 * first.
 *
 * This is a report, not a fix: OpenBLAS chooses its kernels once, when it
 * is loaded, before any bptt call, and a library cannot change that choice
 * afterwards.  The remedy (an environment variable set before the program
 * starts, or another OpenBLAS) is for the user to apply.  bptt's own
 * kernels choose by CPU features (bptt_kernel_isa), not by CPU model, and
 * are not affected.
 */
#ifndef BPTT_BLAS_H
#define BPTT_BLAS_H

#include "bptt/common.h"
#include "bptt/cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What bptt_blas_info_get found.  Every string is NUL-terminated, possibly
 * truncated to its array. */
typedef struct bptt_blas_info {
    char vendor[32];     /* "OpenBLAS", or "unknown" for a BLAS that does
                            not say what it is */
    char version[32];    /* e.g. "0.3.21", from the BLAS's own report; ""
                            if unknown */
    char core[32];       /* the kernel set in use, OpenBLAS's name for it:
                            "Prescott", "Haswell", "Zen", "SkylakeX",
                            "Cooperlake", ...; "" if unknown */
    char config[128];    /* OpenBLAS's openblas_get_config() text, as is;
                            "" if unknown */
    int threads;         /* the BLAS's thread count now; 0 if unknown */
    bptt_isa blas_isa;   /* the vector instruction set of that kernel set:
                            sse for Prescott, Core2, Nehalem, Barcelona and
                            the other pre-AVX cores; avx for Sandybridge and
                            the Bulldozer family (their FMA kernels do not
                            use AVX2); avx2 for Haswell and Zen; avx512 for
                            SkylakeX, Cooperlake and SapphireRapids;
                            BPTT_ISA_UNKNOWN for a name not known here */
    bptt_isa cpu_isa;    /* bptt_cpu_isa() */
    bptt_isa kernel_isa; /* bptt_kernel_isa(): what bptt's own kernels run */
    int weaker;          /* 1 when blas_isa is known and below cpu_isa: the
                            BLAS leaves vector width unused, and BLAS-bound
                            timings do not represent this CPU; else 0 */
    char remedy[256];    /* when weaker, one sentence saying what runs and
                            what to do before the program starts; "" when
                            not weaker */
} bptt_blas_info;

/* Fill *info with the BLAS this process runs (see the struct).  Stays
 * BLAS-neutral: OpenBLAS's report functions are looked up at run time, so
 * a build against another CBLAS links and reports vendor "unknown".  The
 * call is cheap and reads only; it may be called from several threads.
 *
 * Errors: BPTT_ENULL (info NULL); then nothing is written. */
BPTT_API bptt_status bptt_blas_info_get(bptt_blas_info *info);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_BLAS_H */
