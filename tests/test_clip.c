/*
 * Clipping: the reported norms equal norms computed here; a clipped
 * gradient has exactly the threshold's norm (to rounding) and the
 * direction it had; a gradient within the threshold is bitwise unchanged;
 * non-finite gradients are refused without writing; the clipped SGD step
 * equals clip followed by sgd_step, bit for bit; traps.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A gradient in two blocks, padded: dW (DOUT x M, ld LDW) and db (1 x DOUT). */
enum { DOUT = 5, M = 9, LDW = M + 2 };
typedef struct grad {
    double dW[DOUT * LDW], db[DOUT];
} grad;

static void grad_fill(grad *g, double scale, unsigned long long seed)
{
    tu_rng r = {seed};
    for (size_t i = 0; i < DOUT * LDW; i++)
        g->dW[i] = scale * tu_uniform(&r);
    for (size_t i = 0; i < DOUT; i++)
        g->db[i] = scale * tu_uniform(&r);
}

static void grad_blocks(grad *g, bptt_block blk[2])
{
    blk[0] = (bptt_block){DOUT, M, g->dW, LDW};
    blk[1] = (bptt_block){1, DOUT, g->db, DOUT};
}

/* Frobenius norm, the padding excluded, always scaled by the largest entry
 * (the library scales only when the plain sum over- or underflows). */
static double fro(size_t rows, size_t cols, const double *a, size_t ld)
{
    double amax = 0, s = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            amax = fmax(amax, fabs(a[i * ld + j]));
    if (amax == 0)
        return 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            s += (a[i * ld + j] / amax) * (a[i * ld + j] / amax);
    return amax * sqrt(s);
}

START_TEST(clip_scales_to_the_threshold)
{
    grad g, g0;
    bptt_block blk[2];
    const double scales[] = {3.0, 1e200, 1e-200}; /* also near over/underflow */
    for (size_t k = 0; k < 3; k++) {
        grad_fill(&g, scales[k], 7 + k);
        g0 = g;
        grad_blocks(&g, blk);
        const double n0 = fro(DOUT, M, g.dW, LDW), n1 = fro(1, DOUT, g.db, DOUT);
        const double total = hypot(n0, n1), max_norm = 0.25 * total;
        double norm = 0, norms[2] = {0};
        ck_assert_int_eq(bptt_clip_global_norm(2, blk, max_norm, &norm, norms),
                         BPTT_OK);
        ck_assert_double_le(fabs(norm - total), 1e-14 * total);
        ck_assert_double_le(fabs(norms[0] - n0), 1e-14 * n0);
        ck_assert_double_le(fabs(norms[1] - n1), 1e-14 * n1);
        /* the clipped norm is the threshold ... */
        const double after = hypot(fro(DOUT, M, g.dW, LDW),
                                   fro(1, DOUT, g.db, DOUT));
        ck_assert_double_le(fabs(after - max_norm), 4 * DBL_EPSILON * max_norm);
        /* ... every entry scaled by the one factor max_norm/norm ... */
        const double c = max_norm / norm;
        for (size_t i = 0; i < DOUT; i++) {
            for (size_t j = 0; j < M; j++)
                ck_assert(g.dW[i * LDW + j] == c * g0.dW[i * LDW + j]);
            for (size_t j = M; j < LDW; j++) /* ... and the padding not */
                ck_assert(g.dW[i * LDW + j] == g0.dW[i * LDW + j]);
            ck_assert(g.db[i] == c * g0.db[i]);
        }
    }
}
END_TEST

START_TEST(within_the_threshold_is_bitwise_unchanged)
{
    grad g, g0;
    bptt_block blk[2];
    grad_fill(&g, 2.0, 3);
    g.dW[7] = -0.0; /* a negative zero stays negative */
    g0 = g;
    grad_blocks(&g, blk);
    const double total = hypot(fro(DOUT, M, g.dW, LDW), fro(1, DOUT, g.db, DOUT));
    double norm = 0;
    ck_assert_int_eq(bptt_clip_global_norm(2, blk, 2 * total, &norm, NULL),
                     BPTT_OK);
    ck_assert(memcmp(&g, &g0, sizeof g) == 0);
    ck_assert_double_le(fabs(norm - total), 1e-14 * total);
    /* exactly at the threshold: not clipped */
    ck_assert_int_eq(bptt_clip_global_norm(2, blk, norm, NULL, NULL), BPTT_OK);
    ck_assert(memcmp(&g, &g0, sizeof g) == 0);
    /* +inf measures without clipping */
    double norms[2];
    ck_assert_int_eq(bptt_clip_global_norm(2, blk, INFINITY, NULL, norms),
                     BPTT_OK);
    ck_assert(memcmp(&g, &g0, sizeof g) == 0);
    ck_assert(norms[1] > 0);
    /* a zero gradient has norm 0 and stays zero */
    double z[3] = {0, 0, 0};
    bptt_block zb = {1, 3, z, 3};
    ck_assert_int_eq(bptt_clip_global_norm(1, &zb, 1e-300, &norm, NULL),
                     BPTT_OK);
    ck_assert(norm == 0 && z[0] == 0 && !signbit(z[0]));
}
END_TEST

START_TEST(nonfinite_is_refused)
{
    grad g, g0, W, W0;
    bptt_block blk[2], wblk[2];
    grad_fill(&W, 1.0, 5);
    W0 = W;
    grad_blocks(&W, wblk);
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t k = 0; k < 3; k++) {
        grad_fill(&g, 1.0, 6);
        g.db[3] = bad[k];
        g0 = g;
        grad_blocks(&g, blk);
        double norm = -1, norms[2] = {-1, -1};
        ck_assert_int_eq(bptt_clip_global_norm(2, blk, 1.0, &norm, norms),
                         BPTT_ENONFINITE);
        ck_assert(memcmp(&g, &g0, sizeof g) == 0);
        ck_assert(norm == -1 && norms[0] == -1 && norms[1] == -1);
        ck_assert_int_eq(bptt_sgd_step_clipped(2, 0.1, blk, 1.0, wblk, &norm,
                                               norms), BPTT_ENONFINITE);
        ck_assert(memcmp(&W, &W0, sizeof W) == 0);
        ck_assert(memcmp(&g, &g0, sizeof g) == 0);
    }
    /* finite entries whose squares overflow are not "non-finite" */
    grad_fill(&g, 1e300, 8);
    grad_blocks(&g, blk);
    double norm = 0;
    ck_assert_int_eq(bptt_clip_global_norm(2, blk, 1.0, &norm, NULL), BPTT_OK);
    ck_assert(isfinite(norm) && norm > 1e300);
}
END_TEST

/* Ratios ‖g‖/max_norm beyond the double range: a subnormal factor would
 * lose its digits (or be 0 and zero the gradient), so the entries are
 * divided by ‖g‖ first; a norm above the largest double is refused. */
START_TEST(extreme_ratios)
{
    double a[3] = {1e300, -1e300, 5e299}, w[3] = {1, 2, 3};
    bptt_block g = {1, 3, a, 3}, wb = {1, 3, w, 3};
    double norm = 0;
    const double total = fro(1, 3, a, 3), max_norm = 1e-300;
    double want[3];
    for (size_t j = 0; j < 3; j++)
        want[j] = a[j] / total * max_norm;
    ck_assert_int_eq(bptt_clip_global_norm(1, &g, max_norm, &norm, NULL),
                     BPTT_OK);
    ck_assert_double_eq_tol(norm, total, 1e-15 * total);
    for (size_t j = 0; j < 3; j++)
        ck_assert(a[j] == want[j]);
    ck_assert_double_eq_tol(fro(1, 3, a, 3), max_norm, 1e-15 * max_norm);
    /* the clipped step rounds the same way */
    double d[3] = {1e300, -1e300, 5e299};
    bptt_block gd = {1, 3, d, 3};
    ck_assert_int_eq(bptt_sgd_step_clipped(1, 1e300, &gd, max_norm, &wb, NULL,
                                           NULL), BPTT_OK);
    for (size_t j = 0; j < 3; j++)
        ck_assert(w[j] == (double)(j + 1) - 1e300 * want[j]);

    /* finite blocks whose norm (one block) or global norm (two) exceeds
     * DBL_MAX: refused, nothing written */
    double big[2] = {DBL_MAX, -DBL_MAX}, big0[2] = {DBL_MAX, -DBL_MAX};
    bptt_block two[2] = {{1, 1, big, 1}, {1, 1, big + 1, 1}};
    bptt_block one = {1, 2, big, 2};
    double norms[2] = {-1, -1};
    norm = -1;
    ck_assert_int_eq(bptt_clip_global_norm(2, two, 1, &norm, norms),
                     BPTT_ENONFINITE);
    ck_assert_int_eq(bptt_clip_global_norm(1, &one, 1, &norm, norms),
                     BPTT_ENONFINITE);
    /* W apart from dW: W aliasing dW is refused (BPTT_EOVERLAP) */
    double wv[2] = {1, 2}, wv0[2] = {1, 2};
    bptt_block wtwo[2] = {{1, 1, wv, 1}, {1, 1, wv + 1, 1}};
    ck_assert_int_eq(bptt_sgd_step_clipped(2, 0.1, two, 1, wtwo, &norm, norms),
                     BPTT_ENONFINITE);
    ck_assert(memcmp(wv, wv0, sizeof wv) == 0);
    ck_assert(memcmp(big, big0, sizeof big) == 0);
    ck_assert(norm == -1 && norms[0] == -1 && norms[1] == -1);
}
END_TEST

START_TEST(clipped_step_is_clip_then_sgd)
{
    const double alpha = 0.05;
    const double thresholds[] = {0.5, 1e3}; /* clipping, and not */
    for (size_t k = 0; k < 2; k++) {
        grad g, W, Wref;
        bptt_block gb[2], wb[2];
        grad_fill(&g, 1.0, 10);
        grad_fill(&W, 1.0, 11);
        Wref = W;
        grad_blocks(&W, wb);
        grad_blocks(&g, gb);
        const grad g0 = g;
        double norm, norms[2];
        ck_assert_int_eq(bptt_sgd_step_clipped(2, alpha, gb, thresholds[k], wb,
                                               &norm, norms),
                         BPTT_OK);
        ck_assert(memcmp(&g, &g0, sizeof g) == 0); /* dW is not written */
        /* the reference: clip a copy, then eq. (13) block by block */
        double nref, nsref[2];
        ck_assert_int_eq(bptt_clip_global_norm(2, gb, thresholds[k], &nref,
                                               nsref), BPTT_OK);
        ck_assert_int_eq(bptt_sgd_step(DOUT, M, alpha, g.dW, LDW, Wref.dW, LDW),
                         BPTT_OK);
        ck_assert_int_eq(bptt_sgd_step(1, DOUT, alpha, g.db, DOUT, Wref.db,
                                       DOUT), BPTT_OK);
        ck_assert(memcmp(&W, &Wref, sizeof W) == 0);
        ck_assert(norm == nref && norms[0] == nsref[0] && norms[1] == nsref[1]);
    }
}
END_TEST

START_TEST(float_clip)
{
    enum { N = 200 };
    float a[N], a0[N];
    tu_rng r = {12};
    for (size_t i = 0; i < N; i++)
        a0[i] = a[i] = (float)(10 * tu_uniform(&r));
    bpttf_block b = {10, 20, a, 20};
    double norm;
    ck_assert_int_eq(bpttf_clip_global_norm(1, &b, 1e6, &norm, NULL), BPTT_OK);
    ck_assert(memcmp(a, a0, sizeof a) == 0);
    ck_assert_int_eq(bpttf_clip_global_norm(1, &b, 1.0, &norm, NULL), BPTT_OK);
    double s = 0, s0 = 0;
    for (size_t i = 0; i < N; i++) {
        s += (double)a[i] * a[i];
        s0 += (double)a0[i] * a0[i];
    }
    ck_assert_double_le(fabs(norm - sqrt(s0)), 1e-14 * norm);
    ck_assert_double_le(fabs(sqrt(s) - 1), 4 * FLT_EPSILON);
    float w[N] = {0};
    bpttf_block wb = {10, 20, w, 20};
    a[5] = NAN;
    ck_assert_int_eq(bpttf_sgd_step_clipped(1, 0.1f, &b, 1.0, &wb, NULL, NULL),
                     BPTT_ENONFINITE);
    for (size_t i = 0; i < N; i++)
        ck_assert(w[i] == 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Traps                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct arena {
    grad g, w;
    double norm, norms[2];
} arena;
static arena A;

#define TRAP(call, want) TU_REFUSED_REGION(call, want, &A, sizeof A)

START_TEST(clip_traps)
{
    grad_fill(&A.g, 5.0, 1);
    grad_fill(&A.w, 1.0, 2);
    A.norm = A.norms[0] = A.norms[1] = 9;
    bptt_block g[2], w[2], bad[2];
    grad_blocks(&A.g, g);
    grad_blocks(&A.w, w);
#define BAD(field, val) (memcpy(bad, g, sizeof bad), bad[1].field = (val), bad)
    TRAP(bptt_clip_global_norm(2, NULL, 1, &A.norm, A.norms), BPTT_ENULL);
    TRAP(bptt_clip_global_norm(2, BAD(a, NULL), 1, &A.norm, A.norms), BPTT_ENULL);
    TRAP(bptt_clip_global_norm(0, g, 1, &A.norm, A.norms), BPTT_ESIZE);
    TRAP(bptt_clip_global_norm(2, BAD(rows, 0), 1, &A.norm, A.norms), BPTT_ESIZE);
    TRAP(bptt_clip_global_norm(2, BAD(cols, 0), 1, &A.norm, A.norms), BPTT_ESIZE);
    TRAP(bptt_clip_global_norm(2, BAD(ld, DOUT - 1), 1, &A.norm, A.norms),
         BPTT_ELD);
    TRAP(bptt_clip_global_norm(2, BAD(ld, (size_t)INT32_MAX + 1), 1, &A.norm,
                               A.norms), BPTT_EOVERFLOW);
    BAD(ld, SIZE_MAX / 4);
    bad[1].rows = 8; /* (rows − 1)·ld overflows size_t */
    TRAP(bptt_clip_global_norm(2, bad, 1, &A.norm, A.norms), BPTT_EOVERFLOW);
    TRAP(bptt_clip_global_norm(2, g, 0, &A.norm, A.norms), BPTT_EINVAL);
    TRAP(bptt_clip_global_norm(2, g, -1, &A.norm, A.norms), BPTT_EINVAL);
    TRAP(bptt_clip_global_norm(2, g, NAN, &A.norm, A.norms), BPTT_EINVAL);
    TRAP(bptt_sgd_step_clipped(2, 0.1, NULL, 1, w, &A.norm, A.norms), BPTT_ENULL);
    TRAP(bptt_sgd_step_clipped(2, 0.1, g, 1, NULL, &A.norm, A.norms), BPTT_ENULL);
    TRAP(bptt_sgd_step_clipped(2, 0.1, g, 1, BAD(ld, 1), &A.norm, A.norms),
         BPTT_ELD);
    TRAP(bptt_sgd_step_clipped(2, 0.1, g, 1, BAD(cols, 4), &A.norm, A.norms),
         BPTT_EINVAL); /* W[1] is 1 x 4, dW[1] 1 x 5 */
    TRAP(bptt_sgd_step_clipped(2, NAN, g, 1, w, &A.norm, A.norms), BPTT_EINVAL);
    TRAP(bptt_sgd_step_clipped(2, INFINITY, g, 1, w, &A.norm, A.norms),
         BPTT_EINVAL);
    TRAP(bptt_sgd_step_clipped(2, 0.1, g, -2, w, &A.norm, A.norms), BPTT_EINVAL);
    TRAP(bptt_sgd_step_clipped(0, 0.1, g, 1, w, &A.norm, A.norms), BPTT_ESIZE);
#undef BAD
    /* the valid calls succeed */
    ck_assert_int_eq(bptt_sgd_step_clipped(2, 0.1, g, 1, w, &A.norm, A.norms),
                     BPTT_OK);
    ck_assert_int_eq(bptt_clip_global_norm(2, g, 1, &A.norm, A.norms), BPTT_OK);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("clip");
    TCase *tc = tcase_create("clip");
    tcase_add_test(tc, clip_scales_to_the_threshold);
    tcase_add_test(tc, within_the_threshold_is_bitwise_unchanged);
    tcase_add_test(tc, nonfinite_is_refused);
    tcase_add_test(tc, extreme_ratios);
    tcase_add_test(tc, clipped_step_is_clip_then_sgd);
    tcase_add_test(tc, float_clip);
    tcase_add_test(tc, clip_traps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
