/*
 * check.c — the argument checks every entry point shares: one matrix
 * argument against its shape, and a call's T, B and algorithm against its
 * workspace.  Precision-independent (the element size is an argument).
 */
#include "internal.h"

bptt_status bptt__check_mat(const char *fn, const char *name, const void *p,
                            int required, size_t rows, size_t cols, size_t ld,
                            size_t elem)
{
    if (!p)
        return required ? bptt__fail(BPTT_ENULL, fn, "%s is NULL", name)
                        : BPTT_OK;
    if (ld < cols)
        return bptt__fail(BPTT_ELD, fn, "ld%s (%zu) < row length (%zu)", name,
                          ld, cols);
    /* The last element must be addressable: (rows-1)·ld + cols elements. */
    int ok = 1;
    bptt__add(bptt__mul(bptt__mul(rows - 1, ld, &ok), elem, &ok),
              bptt__mul(cols, elem, &ok), &ok);
    if (!ok || ld > BPTT_INT_MAX)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "%s: %zu rows with ld %zu exceed the address space "
                          "or INT_MAX", name, rows, ld);
    return BPTT_OK;
}

bptt_status bptt__check_shape(const char *fn, size_t T, size_t B, size_t Tmax,
                              size_t Bmax, bptt_algo algo)
{
    if (T == 0 || B == 0)
        return bptt__fail(BPTT_ESIZE, fn, "T (%zu) and B (%zu) must be > 0", T,
                          B);
    if (T > Tmax || B > Bmax)
        return bptt__fail(BPTT_ECAPACITY, fn,
                          "T = %zu, B = %zu exceed the workspace's Tmax = %zu, "
                          "Bmax = %zu", T, B, Tmax, Bmax);
    if ((unsigned)algo >= BPTT_NALGO)
        return bptt__fail(BPTT_EALGO, fn, "algo = %d is not an algorithm",
                          (int)algo);
    return BPTT_OK;
}
