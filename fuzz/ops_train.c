/*
 * ops_train.c — the fuzz op of the training helpers: global-norm clipping
 * and the clipped SGD step (fuzz/README.md).
 */
#include "fuzz.h"

/* ------------------------------------------------------------------------ */
/* op: global-norm clipping and the clipped SGD step                         */
/* ------------------------------------------------------------------------ */

void op_clip(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    const int sgd = u8(r) & 1;
    char fn[64];
    fname(A, sgd ? "sgd_step_clipped" : "clip_global_norm", fn);
    const size_t nb = u8(r) % (MAXBLK + 1);
    const unsigned flags = u8(r), msel = u8(r), asel = u8(r);
    const unsigned nulls = (u8(r) & 0xE0) == 0xE0 ? u8(r) : 0;
    const int hostile = flags & 1, mismatch = (flags & 0x0E) == 0x0E;
    const double big = A->r == sizeof(float) ? 1e30 : 1e300;
    const double scales[8] = {1, 1, 1e-3, 10, 1e3, big, 1 / big, 1};
    const double scale = scales[(flags >> 4) % 8];
    static const double maxes[] = {1, 0.5, 10, 1e-3, INFINITY, 1e-300,
                                   1e300, 5};
    static const double odd_max[] = {0, -0.0, -1, NAN, -INFINITY,
                                      DBL_TRUE_MIN, DBL_MAX, 1e-310};
    const double max_norm = msel >= 224 ? odd_max[msel % 8] : maxes[msel % 8];
    static const double alphas[] = {0.1, 0, 1, -0.5, 1e-3, 3};
    const double alpha = asel >= 224 ? A->special[(asel - 224) % 10]
                                     : alphas[asel % 6];
    arena a = {0}, ref = {0};
    gblock *g = arena_new(&a, MAXBLK * sizeof *g);
    gblock *w = arena_new(&a, MAXBLK * sizeof *w);
    mat gm[MAXBLK] = {{0}}, wm[MAXBLK] = {{0}};
    unsigned faults = 0;
    for (size_t i = 0; i < nb; i++) {
        const size_t rows = pick_small(r, 3), cols = pick_small(r, 4);
        const size_t ld = pick_small_ld(r, cols);
        const int small = rows <= 3 && cols <= 4;
        gm[i] = mat_new(&a, A, r, small && rows ? rows : 1,
                        small && cols ? cols : 1, ld, scale, hostile);
        g[i] = (gblock){rows, cols, nulls >> (2 + i) & 1 ? NULL : gm[i].p, ld};
        if (!rows || !cols)
            faults |= BIT(BPTT_ESIZE);
        else if (!g[i].a)
            faults |= BIT(BPTT_ENULL);
        else
            faults |= ld_fault(ld, cols) |
                      (extent_ok(A, rows, ld) ? 0 : BIT(BPTT_EOVERFLOW));
        if (!sgd)
            continue;
        /* W[i]: dW[i]'s shape, or one more row or column */
        const size_t wr = rows + (mismatch && i == 0 && (flags & 0x80));
        const size_t wc = cols + (mismatch && i == 0 && !(flags & 0x80));
        const size_t ldw = pick_small_ld(r, wc);
        const int wsmall = wr <= 4 && wc <= 5;
        wm[i] = mat_new(&a, A, r, wsmall && wr ? wr : 1, wsmall && wc ? wc : 1,
                        ldw, 1, hostile);
        w[i] = (gblock){wr, wc, nulls & 0x40 && i == 0 ? NULL : wm[i].p, ldw};
        if (!wr || !wc)
            faults |= BIT(BPTT_ESIZE);
        else if (!w[i].a)
            faults |= BIT(BPTT_ENULL);
        else
            faults |= ld_fault(ldw, wc) |
                      (extent_ok(A, wr, ldw) ? 0 : BIT(BPTT_EOVERFLOW));
        if (wr != rows || wc != cols)
            faults |= BIT(BPTT_EINVAL);
    }
    const gblock *cg = nulls & 1 ? NULL : g, *cw = nulls & 2 ? NULL : w;
    if (!cg || (sgd && !cw))
        faults |= BIT(BPTT_ENULL);
    if (!nb)
        faults |= BIT(BPTT_ESIZE);
    if (sgd && !isfinite(alpha))
        faults |= BIT(BPTT_EINVAL);
    if (!(max_norm > 0))
        faults |= BIT(BPTT_EINVAL);
    /* the norms by the harness, in long double: a NaN or Inf, or a norm
     * above the largest double, is refused (either way within rounding of
     * it: edge) */
    long double bn[MAXBLK] = {0}, ssq = 0;
    for (size_t i = 0; !faults && i < nb; i++) {
        bn[i] = frob(A, gm[i], 0, gm[i].rows);
        ssq += bn[i] * bn[i];
        if (!mat_finite(A, gm[i]))
            faults |= BIT(BPTT_ENONFINITE);
    }
    const long double total = sqrtl(ssq);
    int edge = 0;
    if (!faults && total > (long double)DBL_MAX * (1 + 1e-12L))
        faults |= BIT(BPTT_ENONFINITE);
    else if (!faults && total >= (long double)DBL_MAX * (1 - 1e-12L))
        edge = 1;
    double *norm = flags & 0x20 ? NULL : arena_new(&a, sizeof(double));
    double *norms = flags & 0x40 ? NULL : arena_new(&a, MAXBLK * sizeof(double));

    trace("%s: %zu blocks, max_norm %g alpha %g, total %Lg, nulls 0x%x\n", fn,
          nb, max_norm, alpha, total, nulls);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st = sgd ? A->sgd_clipped(nb, alpha, cg, max_norm, cw, norm,
                                          norms)
                         : A->clip(nb, cg, max_norm, norm, norms);
    if (faults || (edge && st != BPTT_OK)) {
        require_rejected(st, faults | BIT(BPTT_ENONFINITE) * edge, fn, &a);
        HIT(H_LATER_REJECTED);
        goto out;
    }
    HIT(H_LATER_ACCEPTED);
    REQUIRE(st == BPTT_OK, "%s: valid call gave %s (%s)", fn,
            bptt_strerror(st), bptt_error_detail());
    void *outs[2 + MAXBLK] = {norm, norms};
    for (size_t i = 0; i < nb; i++)
        outs[2 + i] = sgd ? wm[i].p : gm[i].p;
    require_only(&a, outs, 2 + MAXBLK, fn);
    for (size_t i = 0; i < nb; i++)
        REQUIRE(padding_kept(A, &a, sgd ? wm[i] : gm[i]),
                "%s wrote a block's padding", fn);
    REQUIRE(!norm || norm_close(*norm, total, 1e-12), "%s: norm %.17g, "
            "harness %.17Lg", fn, *norm, total);
    for (size_t i = 0; norms && i < nb; i++)
        REQUIRE(norm_close(norms[i], bn[i], 1e-12), "%s: norms[%zu] %.17g, "
                "harness %.17Lg", fn, i, norms[i], bn[i]);
    if (sgd) {
        /* as clip_global_norm on a copy of dW, then sgd_step per block,
         * bitwise */
        gblock cd[MAXBLK];
        mat rw[MAXBLK];
        for (size_t i = 0; i < nb; i++) {
            cd[i] = g[i];
            cd[i].a = mat_copy(&ref, A, gm[i]).p;
            rw[i] = mat_snap_copy(&ref, A, &a, wm[i]);
        }
        REQUIRE(A->clip(nb, cd, max_norm, NULL, NULL) == BPTT_OK, "clip");
        for (size_t i = 0; i < nb; i++) {
            REQUIRE(A->sgd(g[i].rows, g[i].cols, alpha, cd[i].a, g[i].ld,
                           rw[i].p, w[i].ld) == BPTT_OK, "sgd_step");
            for (size_t k = 0; k < g[i].rows; k++)
                for (size_t j = 0; j < g[i].cols; j++)
                    REQUIRE(same_value(mat_get(A, wm[i], k, j),
                                       mat_get(A, rw[i], k, j)),
                            "%s: W[%zu][%zu][%zu] = %g, clip + sgd_step %g",
                            fn, i, k, j, mat_get(A, wm[i], k, j),
                            mat_get(A, rw[i], k, j));
        }
        HIT(H_LATER_COMPARED);
        goto out;
    }
    /* clip: untouched within the threshold; else scaled (signs kept,
     * magnitudes not grown) to a norm of max_norm, up to each entry's
     * rounding (relative ε, or half the smallest denormal) */
    const double eps = A->r == sizeof(float) ? 1e-6 : 1e-12;
    const double denorm = A->r == sizeof(float) ? FLT_TRUE_MIN : DBL_TRUE_MIN;
    long double after = 0;
    size_t count = 0;
    for (size_t i = 0; i < nb; i++) {
        const unsigned char *s0 = arena_snap_of(&a, gm[i].p);
        for (size_t k = 0; k < gm[i].rows; k++)
            for (size_t j = 0; j < gm[i].cols; j++) {
                const double old = A->get(s0, k * gm[i].sld + j);
                const double now = mat_get(A, gm[i], k, j);
                REQUIRE(total > max_norm * (1 - 1e-12) ||
                            memcmp(&old, &now, sizeof old) == 0,
                        "%s: norm %.17Lg within %.17g, but changed", fn,
                        total, max_norm);
                REQUIRE(old * now >= 0 && fabs(now) <= fabs(old),
                        "%s: %g became %g", fn, old, now);
                after += (long double)now * now;
                count++;
            }
    }
    after = sqrtl(after);
    const long double slack = sqrtl((long double)count) * denorm;
    REQUIRE(after <= max_norm * (1 + eps) + slack, "%s: clipped to %.17Lg, "
            "above %.17g", fn, after, max_norm);
    REQUIRE(total <= max_norm * (1 + 1e-12) ||
                after >= max_norm * (1 - eps) - slack,
            "%s: norm %.17Lg clipped to %.17Lg, not %.17g", fn, total, after,
            max_norm);
    HIT(H_LATER_COMPARED);
out:
    arena_free(&a);
    arena_free(&ref);
}
