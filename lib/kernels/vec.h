/*
 * kernels/vec.h — what the per-instruction-set kernels (recurrence.c,
 * microkernel.c) share: the vector type of the level they are compiled for
 * (meson passes BPTT_KISA, the level's name, and BPTT_KISA_BYTES, its
 * vector width) and unaligned loads and stores of it.  Include only from
 * those files, after kernels/recurrence.h.
 */
#ifndef BPTT_KERNELS_VEC_H
#define BPTT_KERNELS_VEC_H

#include <string.h>

#define KGLUE2(a, b) a##b
#define KGLUE(a, b) KGLUE2(a, b)

typedef R vec __attribute__((vector_size(BPTT_KISA_BYTES)));
/* VL elements a vector; panels of NR = two vectors (kernels/recurrence.h) */
enum { VL = BPTT_KISA_BYTES / sizeof(R), NR = 2 * VL };

static inline vec vload(const R *p)
{
    vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void vstore(R *p, vec v)
{
    memcpy(p, &v, sizeof v);
}

/* Columns of panels q .. q+np-1 that exist below N. */
static inline size_t panel_cols(size_t N, size_t q, int np)
{
    size_t c0 = q * NR, c1 = c0 + (size_t)np * NR;
    return (c1 < N ? c1 : N) - c0;
}

#endif /* BPTT_KERNELS_VEC_H */
