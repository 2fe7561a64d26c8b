/*
 * layout.c — the one check of a plan's layout, made when the plan is made
 * so that the calls on the plan cannot fail on a leading dimension within
 * Tmax and Bmax.  Precision-independent (the element size is an argument).
 */
#include <string.h>

#include "plan/layout.h"

const char *bptt_cell_name(bptt_cell cell)
{
    static const char *const names[BPTT_NCELL] = {"vanilla", "lstm",
                                                     "gru"};
    return (unsigned)cell < BPTT_NCELL ? names[cell] : NULL;
}

bptt_status bptt__check_capacity(const char *fn, size_t Tmax, size_t Bmax,
                                 unsigned algo, unsigned nalgo)
{
    if (Tmax == 0 || Bmax == 0)
        return bptt__fail(BPTT_ESIZE, fn, "Tmax (%zu) and Bmax (%zu) must be "
                          "> 0", Tmax, Bmax);
    if (algo >= nalgo)
        return bptt__fail(BPTT_EALGO, fn, "algo = %d is not an algorithm",
                          (int)algo);
    return BPTT_OK;
}

bptt_status bptt__layout_resolve(const char *fn, const void *layout,
                                 void *out, size_t size,
                                 const bptt__ld_field *f, size_t n,
                                 size_t elem)
{
    /* Resolve into a local copy first: nothing of out is written unless
     * every member passes.  The layouts are a few size_t members. */
    unsigned char tmp[32 * sizeof(size_t)];
    if (size > sizeof tmp)
        return bptt__fail(BPTT_EINVAL, fn, "layout of %zu bytes", size);
    if (layout)
        memcpy(tmp, layout, size);
    else
        memset(tmp, 0, size);
    for (size_t i = 0; i < n; i++) {
        size_t *ld = (size_t *)(void *)(tmp + f[i].offset);
        if (*ld == 0) /* dense: the row length */
            *ld = f[i].cols;
        if (*ld < f[i].cols)
            return bptt__fail(BPTT_ELD, fn, "layout->%s (%zu) < %s (%zu)",
                              f[i].name, *ld, f[i].cols_name, f[i].cols);
        /* The last element of the largest call: (rows-1)·ld + cols. */
        int ok = 1;
        bptt__add(bptt__mul(bptt__mul(f[i].rows - 1, *ld, &ok), elem, &ok),
                  bptt__mul(f[i].cols, elem, &ok), &ok);
        if (!ok || *ld > BPTT_INT_MAX)
            return bptt__fail(BPTT_EOVERFLOW, fn,
                              "layout->%s (%zu): %zu rows exceed the address "
                              "space or INT_MAX", f[i].name, *ld, f[i].rows);
    }
    memcpy(out, tmp, size);
    return BPTT_OK;
}
