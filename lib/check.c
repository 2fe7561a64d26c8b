/*
 * check.c — the argument check that the initialisation, diagnostic and
 * clipping entry points share: one matrix argument against its shape.
 * Precision-independent (the element size is an argument).
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
