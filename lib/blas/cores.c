/*
 * cores.c — OpenBLAS's x86 kernel sets and the instruction set their
 * kernels use.  The names are those of OpenBLAS's TargetList.txt and of
 * driver/others/dynamic.c (corename[]), up to 0.3.21 and SapphireRapids.
 *
 * The level is that of the kernels, not of the CPU the set is named after:
 * the Bulldozer family's GEMM kernels (bulldozer, piledriver, also used
 * for Steamroller and Excavator) use AVX with FMA4/FMA3 but never AVX2, so
 * they are "avx" even on an Excavator that has AVX2; Zen runs the Haswell
 * kernels.  GENERIC and SSE_GENERIC are C kernels built for x86-64's
 * baseline, SSE2.
 */
#include <ctype.h>

#include "blas/cores.h"

static const struct {
    const char *name;
    bptt_isa isa;
} cores[] = {
    /* Intel before AVX, and the 32-bit ones x86-64 builds alias to
     * Prescott */
    {"Katmai", BPTT_ISA_SSE},
    {"Coppermine", BPTT_ISA_SSE},
    {"Northwood", BPTT_ISA_SSE},
    {"Prescott", BPTT_ISA_SSE},
    {"Banias", BPTT_ISA_SSE},
    {"Yonah", BPTT_ISA_SSE},
    {"Atom", BPTT_ISA_SSE},
    {"Core2", BPTT_ISA_SSE},
    {"Penryn", BPTT_ISA_SSE},
    {"Dunnington", BPTT_ISA_SSE},
    {"Nehalem", BPTT_ISA_SSE},
    /* AMD and VIA before AVX */
    {"Athlon", BPTT_ISA_SSE},
    {"Opteron", BPTT_ISA_SSE},
    {"Opteron_SSE3", BPTT_ISA_SSE},
    {"Barcelona", BPTT_ISA_SSE},
    {"Shanghai", BPTT_ISA_SSE},
    {"Istanbul", BPTT_ISA_SSE},
    {"Bobcat", BPTT_ISA_SSE},
    {"Nano", BPTT_ISA_SSE},
    {"Generic", BPTT_ISA_SSE},
    {"SSE_Generic", BPTT_ISA_SSE},
    /* 256-bit AVX kernels without AVX2 */
    {"Sandybridge", BPTT_ISA_AVX},
    {"Bulldozer", BPTT_ISA_AVX},
    {"Piledriver", BPTT_ISA_AVX},
    {"Steamroller", BPTT_ISA_AVX},
    {"Excavator", BPTT_ISA_AVX},
    /* AVX2 with FMA3 */
    {"Haswell", BPTT_ISA_AVX2},
    {"Zen", BPTT_ISA_AVX2},
    /* AVX-512 */
    {"SkylakeX", BPTT_ISA_AVX512},
    {"Cooperlake", BPTT_ISA_AVX512},
    {"SapphireRapids", BPTT_ISA_AVX512},
};

/* strcasecmp is POSIX, not C11. */
static int same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

bptt_isa bptt__blas_core_isa(const char *name)
{
    if (!name)
        return BPTT_ISA_UNKNOWN;
    for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++)
        if (same_name(name, cores[i].name))
            return cores[i].isa;
    return BPTT_ISA_UNKNOWN;
}
