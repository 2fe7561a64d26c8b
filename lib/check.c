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

bptt_status bptt__check_tokens(const char *fn, const int32_t *tokens,
                               size_t T, size_t B, size_t vocab)
{
    if (!tokens)
        return bptt__fail(BPTT_ENULL, fn, "tokens is NULL");
    /* T·B fits: the caller's shapes were checked against a workspace (or
     * are the count of an array the caller holds). */
    for (size_t k = 0; k < T * B; k++)
        if (tokens[k] < 0 || (uint64_t)tokens[k] >= (uint64_t)vocab)
            return bptt__fail(BPTT_EINVAL, fn,
                              "tokens[%zu] = %ld (step %zu, sequence %zu) is "
                              "outside [0, %zu)", k, (long)tokens[k], k / B,
                              k % B, vocab);
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

/* ------------------------------------------------------------------------ */
/* Overlap, generations, busy                                                */
/* ------------------------------------------------------------------------ */

int bptt__overlaps(const bptt__region *a, const bptt__region *b)
{
    if (!a->p || !b->p)
        return 0;
    uintptr_t a0 = (uintptr_t)a->p, b0 = (uintptr_t)b->p;
    if (a0 > b0) { /* a starts first */
        const bptt__region *t = a;
        a = b;
        b = t;
        uintptr_t u = a0;
        a0 = b0;
        b0 = u;
    }
    if (b0 - a0 >= bptt__extent(a)) /* disjoint address ranges */
        return 0;
    /* Row pitch and row length in bytes; a single row takes the other's
     * pitch if it fits in it (its own ld means nothing). */
    size_t pa = a->ld * a->elem, pb = b->ld * b->elem;
    const size_t ca = a->cols * a->elem, cb = b->cols * b->elem;
    if (a->rows == 1 && ca <= pb)
        pa = pb;
    else if (b->rows == 1 && cb <= pa)
        pb = pa;
    if (pa != pb)
        return 1; /* conservative: ranges intersect, pitches differ */
    /* b's row k covers bytes [(q+k)·p + r, (q+k)·p + r + cb) from a0, a's
     * row j [j·p, j·p + ca); b's row may run on into row q+k+1. */
    const size_t q = (b0 - a0) / pa, r = (b0 - a0) % pa;
    if (q < a->rows && r < ca)
        return 1;
    return r + cb > pa && q + 1 < a->rows;
}

bptt_status bptt__check_overlap_exact(const char *fn,
                                      const bptt__region *out, size_t nout,
                                      const bptt__region *in, size_t nin)
{
    const size_t n = nout + nin;
    for (size_t i = 0; i < nout; i++)
        for (size_t j = i + 1; j < n; j++) {
            const bptt__region *b = j < nout ? &out[j] : &in[j - nout];
            if (bptt__overlaps(&out[i], b))
                return bptt__fail(BPTT_EOVERLAP, fn, "%s overlaps %s",
                                  out[i].name, b->name);
        }
    return BPTT_OK;
}

uint64_t bptt__generation(void)
{
    static atomic_uint_fast64_t next = 1;
    return (uint64_t)atomic_fetch_add_explicit(&next, 1,
                                               memory_order_relaxed);
}

bptt_status bptt__fail_busy(const char *fn, const char *name)
{
    return bptt__fail(BPTT_EBUSY, fn,
                      "%s is in use by another call (another thread, or a "
                      "custom activation calling back)", name);
}
