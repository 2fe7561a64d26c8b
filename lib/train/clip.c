/*
 * clip.c — global-norm gradient clipping (Pascanu, Mikolov & Bengio 2013,
 * "On the difficulty of training recurrent neural networks", Alg. 1): the
 * remedy for the exploding error of eq. (7), and the SGD step of eq. (13)
 * taken with the clipped gradient.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "cells/vanilla/core.h"

/* Validate the blocks (with the name the detail uses). */
static bptt_status check_blocks(const char *fn, const char *name, size_t nblocks,
                                const X(block) *blk)
{
    if (!blk)
        return bptt__fail(BPTT_ENULL, fn, "%s is NULL", name);
    if (nblocks == 0)
        return bptt__fail(BPTT_ESIZE, fn, "nblocks is 0");
    char what[32];
    for (size_t i = 0; i < nblocks; i++) {
        snprintf(what, sizeof what, "%s[%zu]", name, i);
        if (blk[i].rows == 0 || blk[i].cols == 0)
            return bptt__fail(BPTT_ESIZE, fn, "%s is %zu x %zu", what,
                              blk[i].rows, blk[i].cols);
        bptt_status st = bptt__check_mat(fn, what, blk[i].a, 1, blk[i].rows,
                                         blk[i].cols, blk[i].ld, sizeof(R));
        if (st != BPTT_OK)
            return st;
    }
    return BPTT_OK;
}

static bptt__region block_region(const char *name, const X(block) *blk)
{
    return RREG(name, blk->a, blk->rows, blk->cols, blk->ld);
}

/* The blocks out[0..nblocks) are written (clipped in place, or W updated):
 * none may overlap another, a block of in (dW, read; may be NULL), norm
 * or norms (written, nblocks doubles); nor may norm, norms and in.
 * O(nblocks²) pair tests, each O(1). */
static bptt_status check_block_overlap(const char *fn, const char *oname,
                                       const char *iname, size_t nblocks,
                                       const X(block) *out, const X(block) *in,
                                       const double *norm, const double *norms)
{
    char a[32], b[32];
    const bptt__region rn = {"norm", norm, 1, 1, 1, sizeof(double)};
    const bptt__region rns = {"norms", norms, 1, nblocks, nblocks,
                              sizeof(double)};
    if (bptt__overlaps(&rn, &rns))
        return bptt__fail(BPTT_EOVERLAP, fn, "norm overlaps norms");
    for (size_t i = 0; i < nblocks; i++) {
        snprintf(a, sizeof a, "%s[%zu]", oname, i);
        const bptt__region ri = block_region(a, &out[i]);
        const bptt__region scalars[] = {rn, rns};
        for (size_t k = 0; k < 2; k++)
            if (bptt__overlaps(&ri, &scalars[k]))
                return bptt__fail(BPTT_EOVERLAP, fn, "%s overlaps %s", a,
                                  scalars[k].name);
        for (size_t j = i + 1; j < nblocks; j++) {
            const bptt__region rj = block_region("", &out[j]);
            if (bptt__overlaps(&ri, &rj))
                return bptt__fail(BPTT_EOVERLAP, fn, "%s overlaps %s[%zu]", a,
                                  oname, j);
        }
        for (size_t j = 0; in && j < nblocks; j++) {
            snprintf(b, sizeof b, "%s[%zu]", iname, j);
            const bptt__region rj = block_region(b, &in[j]);
            if (bptt__overlaps(&ri, &rj))
                return bptt__fail(BPTT_EOVERLAP, fn, "%s overlaps %s", a, b);
            if (i == 0 && (bptt__overlaps(&rj, &rn) ||
                           bptt__overlaps(&rj, &rns)))
                return bptt__fail(BPTT_EOVERLAP, fn, "%s overlaps %s", b,
                                  bptt__overlaps(&rj, &rn) ? "norm" : "norms");
        }
    }
    return BPTT_OK;
}

/* The global norm sqrt(Σ‖G_i‖²) and the factor that clips it to max_norm
 * (1 when it is within); BPTT_ENONFINITE if a block has a NaN or Inf, or
 * if a block's norm or the global norm exceeds the largest double (the
 * factor would be 0 and the gradient would vanish instead of clipping).  Per
 * block norms go to norms when it is not NULL (only on success). */
static bptt_status measure(const char *fn, size_t nblocks, const X(block) *g,
                           double max_norm, double *norm, double *norms,
                           double *scale, double *total_out)
{
    /* The block norms are kept here for the common few blocks (W, b) and
     * taken again only for more, since norms may not be written before
     * every block is known to be finite. */
    enum { KEEP = 16 };
    double kept[KEEP];
    /* Σ‖G_i‖² as big²·ssq, LAPACK ?lassq's update, so that it cannot
     * overflow where the blocks did not. */
    double big = 0, ssq = 1;
    for (size_t i = 0; i < nblocks; i++) {
        double n = XI(norm2)(g[i].rows, g[i].cols, g[i].a, g[i].ld);
        if (!isfinite(n))
            return bptt__fail(BPTT_ENONFINITE, fn,
                              "block %zu has a NaN or infinite entry, or a "
                              "norm above the largest double", i);
        if (i < KEEP)
            kept[i] = n;
        if (n > big) {
            ssq = 1 + ssq * (big / n) * (big / n);
            big = n;
        } else if (n > 0) {
            ssq += (n / big) * (n / big);
        }
    }
    const double total = big * sqrt(ssq);
    if (!isfinite(total))
        return bptt__fail(BPTT_ENONFINITE, fn,
                          "the global norm exceeds the largest double");
    if (norms)
        for (size_t i = 0; i < nblocks; i++)
            norms[i] = i < KEEP ? kept[i]
                                : XI(norm2)(g[i].rows, g[i].cols, g[i].a,
                                            g[i].ld);
    if (norm)
        *norm = total;
    /* Pascanu et al.: g ← (threshold/‖g‖)·g if ‖g‖ > threshold. */
    *scale = total > max_norm ? max_norm / total : 1;
    *total_out = total;
    return BPTT_OK;
}

/* One entry of the clipped gradient: scale·a rounded once, or, when the
 * factor is subnormal (‖g‖/max_norm > 2^1022) and has lost its digits (or
 * underflowed to 0), (a/‖g‖)·max_norm, whose quotient is in [−1, 1]. */
static inline R clip_entry(R a, double scale, double total, double max_norm)
{
    return scale >= DBL_MIN ? (R)(scale * a) : (R)(a / total * max_norm);
}

static bptt_status check_max_norm(const char *fn, double max_norm)
{
    if (!(max_norm > 0)) /* NaN too; +inf is allowed: never clip */
        return bptt__fail(BPTT_EINVAL, fn, "max_norm (%g) must be > 0",
                          max_norm);
    return BPTT_OK;
}

bptt_status X(clip_global_norm)(size_t nblocks, const X(block) *g,
                                double max_norm, double *norm, double *norms)
{
    static const char fn[] = PREFIX "clip_global_norm";
    bptt_status st = check_blocks(fn, "g", nblocks, g);
    if (st == BPTT_OK)
        st = check_block_overlap(fn, "g", NULL, nblocks, g, NULL, norm, norms);
    if (st == BPTT_OK)
        st = check_max_norm(fn, max_norm);
    double scale = 1, total = 0;
    if (st == BPTT_OK)
        st = measure(fn, nblocks, g, max_norm, norm, norms, &scale, &total);
    if (st != BPTT_OK || scale == 1) /* within the threshold: untouched */
        return st;
    for (size_t k = 0; k < nblocks; k++)
        for (size_t i = 0; i < g[k].rows; i++) {
            R *a = g[k].a + i * g[k].ld;
            for (size_t j = 0; j < g[k].cols; j++)
                a[j] = clip_entry(a[j], scale, total, max_norm);
        }
    return BPTT_OK;
}

bptt_status X(sgd_step_clipped)(size_t nblocks, R alpha, const X(block) *dW,
                                double max_norm, const X(block) *W,
                                double *norm, double *norms)
{
    static const char fn[] = PREFIX "sgd_step_clipped";
    bptt_status st = check_blocks(fn, "dW", nblocks, dW);
    if (st == BPTT_OK)
        st = check_blocks(fn, "W", nblocks, W);
    if (st != BPTT_OK)
        return st;
    for (size_t k = 0; k < nblocks; k++)
        if (W[k].rows != dW[k].rows || W[k].cols != dW[k].cols)
            return bptt__fail(BPTT_EINVAL, fn,
                              "W[%zu] is %zu x %zu but dW[%zu] is %zu x %zu", k,
                              W[k].rows, W[k].cols, k, dW[k].rows, dW[k].cols);
    CHECK(check_block_overlap(fn, "W", "dW", nblocks, W, dW, norm, norms));
    if (!isfinite(alpha))
        return bptt__fail(BPTT_EINVAL, fn, "alpha is not finite");
    st = check_max_norm(fn, max_norm);
    double scale = 1, total = 0;
    if (st == BPTT_OK) /* a NaN or Inf in dW stops here: W untouched */
        st = measure(fn, nblocks, dW, max_norm, norm, norms, &scale, &total);
    if (st != BPTT_OK)
        return st;
    /* eq. (13) with the clipped gradient, rounded as clip_global_norm then
     * sgd_step would round it; dW itself is not written. */
    for (size_t k = 0; k < nblocks; k++)
        for (size_t i = 0; i < W[k].rows; i++) {
            R *w = W[k].a + i * W[k].ld;
            const R *d = dW[k].a + i * dW[k].ld;
            for (size_t j = 0; j < W[k].cols; j++) {
                R gj = scale == 1 ? d[j]
                                  : clip_entry(d[j], scale, total, max_norm);
                w[j] -= alpha * gj;
            }
        }
    return BPTT_OK;
}
