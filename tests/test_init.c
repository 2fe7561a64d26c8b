/*
 * Initialisation: orthogonal matrices are orthogonal (WᵀW = I, an
 * identity checked by a product computed here), seeds reproduce, the
 * Glorot draws have the stated moments, rescaling reaches the target
 * spectral radius, and every invalid argument gives its status and writes
 * nothing.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* max |G − gain²·I| for G = WᵀW (cols x cols) or WWᵀ (rows x rows). */
static double gram_error(size_t rows, size_t cols, const double *W, size_t ld,
                         int transpose, double gain)
{
    const size_t n = transpose ? rows : cols, k = transpose ? cols : rows;
    double err = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t l = 0; l < k; l++)
                s += transpose ? W[i * ld + l] * W[j * ld + l]
                               : W[l * ld + i] * W[l * ld + j];
            err = fmax(err, fabs(s - (i == j ? gain * gain : 0)));
        }
    return err;
}

START_TEST(orthogonal_square)
{
    enum { N = 50, LD = N + 3 };
    double *W = calloc(N * LD, sizeof *W);
    ck_assert_int_eq(bptt_init_orthogonal(N, N, 1.0, 7, W, LD), BPTT_OK);
    ck_assert_double_le(gram_error(N, N, W, LD, 0, 1.0), 1e-12); /* WᵀW = I */
    ck_assert_double_le(gram_error(N, N, W, LD, 1, 1.0), 1e-12); /* WWᵀ = I */
    /* the padding between rows is not written */
    for (size_t i = 0; i < N; i++)
        for (size_t j = N; j < LD; j++)
            ck_assert(W[i * LD + j] == 0);
    free(W);
}
END_TEST

START_TEST(orthogonal_rectangular_and_gain)
{
    double W[30 * 31];
    ck_assert_int_eq(bptt_init_orthogonal(30, 12, 1.0, 1, W, 12), BPTT_OK);
    ck_assert_double_le(gram_error(30, 12, W, 12, 0, 1.0), 1e-12);
    ck_assert_int_eq(bptt_init_orthogonal(12, 30, 1.0, 2, W, 31), BPTT_OK);
    ck_assert_double_le(gram_error(12, 30, W, 31, 1, 1.0), 1e-12);
    ck_assert_int_eq(bptt_init_orthogonal(20, 20, 2.5, 3, W, 20), BPTT_OK);
    ck_assert_double_le(gram_error(20, 20, W, 20, 0, 2.5), 1e-11);
    ck_assert_int_eq(bptt_init_orthogonal(1, 1, 1.0, 4, W, 1), BPTT_OK);
    ck_assert(W[0] == 1 || W[0] == -1);
}
END_TEST

START_TEST(orthogonal_float)
{
    enum { N = 40 };
    float Wf[N * N];
    double Wd[N * N];
    ck_assert_int_eq(bpttf_init_orthogonal(N, N, 1.0, 11, Wf, N), BPTT_OK);
    for (size_t i = 0; i < N * N; i++)
        Wd[i] = Wf[i];
    ck_assert_double_le(gram_error(N, N, Wd, N, 0, 1.0), 1e-5);
}
END_TEST

START_TEST(same_seed_same_matrix)
{
    enum { N = 24 };
    double A[N * N], B[N * (N + 5)], C[N * N];
    ck_assert_int_eq(bptt_init_orthogonal(N, N, 1.0, 99, A, N), BPTT_OK);
    ck_assert_int_eq(bptt_init_orthogonal(N, N, 1.0, 99, B, N + 5), BPTT_OK);
    ck_assert_int_eq(bptt_init_orthogonal(N, N, 1.0, 100, C, N), BPTT_OK);
    for (size_t i = 0; i < N; i++)
        ck_assert(memcmp(A + i * N, B + i * (N + 5), N * sizeof *A) == 0);
    ck_assert(memcmp(A, C, sizeof A) != 0);
    /* the same for the random draws, in both distributions */
    for (int d = 0; d < BPTT_NDIST; d++) {
        ck_assert_int_eq(bptt_init_glorot(N, N, (bptt_dist)d, 1.0, 5, A, N),
                         BPTT_OK);
        ck_assert_int_eq(bptt_init_glorot(N, N, (bptt_dist)d, 1.0, 5, B, N + 5),
                         BPTT_OK);
        ck_assert_int_eq(bptt_init_glorot(N, N, (bptt_dist)d, 1.0, 6, C, N),
                         BPTT_OK);
        for (size_t i = 0; i < N; i++)
            ck_assert(memcmp(A + i * N, B + i * (N + 5), N * sizeof *A) == 0);
        ck_assert(memcmp(A, C, sizeof A) != 0);
    }
}
END_TEST

START_TEST(float_draws_are_rounded_double_draws)
{
    enum { N = 300 };
    double d[N];
    float f[N];
    for (int k = 0; k < BPTT_NDIST; k++) {
        ck_assert_int_eq(bptt_init_random(1, N, (bptt_dist)k, 0.3, 8, d, N),
                         BPTT_OK);
        ck_assert_int_eq(bpttf_init_random(1, N, (bptt_dist)k, 0.3, 8, f, N),
                         BPTT_OK);
        for (size_t i = 0; i < N; i++)
            ck_assert(f[i] == (float)d[i]);
    }
}
END_TEST

/* Sample mean and variance of a rows x cols block. */
static void moments(size_t rows, size_t cols, const double *W, size_t ld,
                    double *mean, double *var, double *amax)
{
    double s = 0, ss = 0, m = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double v = W[i * ld + j];
            s += v;
            ss += v * v;
            m = fmax(m, fabs(v));
        }
    const double n = (double)(rows * cols);
    *mean = s / n;
    *var = ss / n - *mean * *mean;
    *amax = m;
}

START_TEST(glorot_moments)
{
    /* 200 x 600: fan_in + fan_out = 800, σ² = 2·gain²/800. */
    enum { R = 200, C = 600 };
    const double gain = 1.5, var0 = 2 * gain * gain / (R + C);
    const double n = R * C;
    double *W = malloc(R * C * sizeof *W), mean, var, amax;
    /* Gaussian: the sample variance has relative s.d. sqrt(2/n) ≈ 0.4 %;
     * allow 2 %, and 5 s.d. for the mean. */
    ck_assert_int_eq(bptt_init_glorot(R, C, BPTT_DIST_GAUSSIAN, gain, 3, W, C),
                     BPTT_OK);
    moments(R, C, W, C, &mean, &var, &amax);
    ck_assert_double_le(fabs(mean), 5 * sqrt(var0 / n));
    ck_assert_double_le(fabs(var / var0 - 1), 0.02);
    /* Uniform on ±sqrt(6/800)·gain: inside, nearly reaching the edge, and
     * the variance of a uniform (relative s.d. sqrt(0.8/n) ≈ 0.26 %). */
    const double a = gain * sqrt(6.0 / (R + C));
    ck_assert_int_eq(bptt_init_glorot(R, C, BPTT_DIST_UNIFORM, gain, 3, W, C),
                     BPTT_OK);
    moments(R, C, W, C, &mean, &var, &amax);
    ck_assert_double_le(amax, a);
    ck_assert_double_ge(amax, 0.999 * a);
    ck_assert_double_le(fabs(mean), 5 * sqrt(var0 / n));
    ck_assert_double_le(fabs(var / var0 - 1), 0.02);
    /* init_random with σ is Glorot with the same σ */
    double *V = malloc(R * C * sizeof *V);
    ck_assert_int_eq(bptt_init_random(R, C, BPTT_DIST_UNIFORM, sqrt(var0), 3, V,
                                      C), BPTT_OK);
    ck_assert_double_le(tu_relerr(R, C, V, C, W, C), 1e-15);
    free(V);
    free(W);
}
END_TEST

START_TEST(rescale_reaches_radius)
{
    enum { N = 40, LD = N + 2 };
    double W[N * LD], rho, before, before2;
    const double targets[] = {0.5, 0.9, 1.0, 1.1, 1.5};
    for (size_t k = 0; k < sizeof targets / sizeof *targets; k++) {
        ck_assert_int_eq(bptt_init_glorot(N, N, BPTT_DIST_GAUSSIAN, 1.0, 20 + k,
                                          W, LD), BPTT_OK);
        ck_assert_int_eq(bptt_spectral_radius(N, W, LD, &before2), BPTT_OK);
        ck_assert_int_eq(bptt_init_rescale_radius(N, targets[k], W, LD, &before),
                         BPTT_OK);
        ck_assert(before == before2);
        ck_assert_int_eq(bptt_spectral_radius(N, W, LD, &rho), BPTT_OK);
        ck_assert_double_le(fabs(rho - targets[k]), 1e-10 * targets[k]);
    }
    float Wf[N * N];
    ck_assert_int_eq(bpttf_init_glorot(N, N, BPTT_DIST_UNIFORM, 1.0, 5, Wf, N),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_init_rescale_radius(N, 1.1, Wf, N, NULL), BPTT_OK);
    ck_assert_int_eq(bpttf_spectral_radius(N, Wf, N, &rho), BPTT_OK);
    ck_assert_double_le(fabs(rho - 1.1), 1e-5);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Traps                                                                     */
/* ------------------------------------------------------------------------ */

enum { TN = 6, TLD = 8 };
static double buf[TN * TLD];

#define TRAP(call, want) TU_REFUSED_REGION(call, want, buf, sizeof buf)

/* Issue 15's numeric findings: radius/ρ overflowing (or underflowing)
 * while the result does not, and σ whose draws overflow. */
START_TEST(numeric_edges)
{
    /* Wy = {1e-310} to radius 1: radius/ρ is +inf, the result 1.0 */
    double w = 1e-310, before = 0;
    ck_assert_int_eq(bptt_init_rescale_radius(1, 1, &w, 1, &before), BPTT_OK);
    ck_assert(w == 1.0 && before == 1e-310);
    /* 0.5·I to radius 1e308: c = 2e308 overflows, the entries 1e308 do not */
    double d[4] = {0.5, 0, 0, 0.5};
    ck_assert_int_eq(bptt_init_rescale_radius(2, 1e308, d, 2, NULL), BPTT_OK);
    ck_assert(d[0] == 1e308 && d[3] == 1e308 && d[1] == 0 && d[2] == 0);
    /* ρ = 1e300 to radius 1e-300: c = 1e-600 underflows to 0 */
    double u = 1e300;
    ck_assert_int_eq(bptt_init_rescale_radius(1, 1e-300, &u, 1, NULL),
                     BPTT_OK);
    ck_assert(u == 1e-300);
    /* float: {1e-40} (subnormal) to 1 */
    float f = 1e-40f;
    ck_assert_int_eq(bpttf_init_rescale_radius(1, 1, &f, 1, NULL), BPTT_OK);
    ck_assert(fabsf(f - 1) <= 1e-6f);

    /* σ whose uniform draws (±√3σ) or Gaussian tails overflow: refused,
     * nothing written; the largest accepted σ gives finite entries */
    TRAP(bptt_init_random(TN, TN, BPTT_DIST_UNIFORM, 1.7e308, 1, buf, TLD),
         BPTT_EOVERFLOW);
    TRAP(bptt_init_random(TN, TN, BPTT_DIST_GAUSSIAN, 1.5e307, 1, buf, TLD),
         BPTT_EOVERFLOW);
    TRAP(bpttf_init_random(TN, TN, BPTT_DIST_UNIFORM, 3e38, 1, (float *)buf,
                           TLD), BPTT_EOVERFLOW);
    TRAP(bptt_init_glorot(1, 1, BPTT_DIST_UNIFORM, 1.7e308, 1, buf, TLD),
         BPTT_EOVERFLOW);
    const bptt_dist dists[2] = {BPTT_DIST_UNIFORM, BPTT_DIST_GAUSSIAN};
    const double top[2] = {DBL_MAX / 1.7321, DBL_MAX / 12.1};
    const double topf[2] = {FLT_MAX / 1.7321, FLT_MAX / 12.1};
    for (int k = 0; k < 2; k++) {
        for (uint64_t seed = 1; seed <= 8; seed++) {
            ck_assert_int_eq(bptt_init_random(TN, TN, dists[k], top[k], seed,
                                              buf, TLD), BPTT_OK);
            for (size_t i = 0; i < TN; i++)
                for (size_t j = 0; j < TN; j++)
                    ck_assert(isfinite(buf[i * TLD + j]));
            float *fb = (float *)buf;
            ck_assert_int_eq(bpttf_init_random(TN, TN, dists[k], topf[k],
                                               seed, fb, TLD), BPTT_OK);
            for (size_t i = 0; i < TN; i++)
                for (size_t j = 0; j < TN; j++)
                    ck_assert(isfinite(fb[i * TLD + j]));
        }
    }
}
END_TEST

START_TEST(init_traps)
{
    tu_rng r = {3};
    for (size_t i = 0; i < TN * TLD; i++)
        buf[i] = tu_uniform(&r);
    double before = 42;
    TRAP(bptt_init_random(TN, TN, BPTT_DIST_UNIFORM, 1, 1, NULL, TLD), BPTT_ENULL);
    TRAP(bptt_init_random(0, TN, BPTT_DIST_UNIFORM, 1, 1, buf, TLD), BPTT_ESIZE);
    TRAP(bptt_init_random(TN, 0, BPTT_DIST_UNIFORM, 1, 1, buf, TLD), BPTT_ESIZE);
    TRAP(bptt_init_random(TN, TN, BPTT_DIST_UNIFORM, 1, 1, buf, TN - 1), BPTT_ELD);
    TRAP(bptt_init_random(TN, TN, BPTT_DIST_UNIFORM, 1, 1, buf,
                          (size_t)INT32_MAX + 1), BPTT_EOVERFLOW);
    TRAP(bptt_init_random(TN, TN, BPTT_NDIST, 1, 1, buf, TLD), BPTT_EINVAL);
    TRAP(bptt_init_random(TN, TN, (bptt_dist)-1, 1, 1, buf, TLD), BPTT_EINVAL);
    TRAP(bptt_init_random(TN, TN, BPTT_DIST_GAUSSIAN, -1, 1, buf, TLD),
         BPTT_EINVAL);
    TRAP(bptt_init_random(TN, TN, BPTT_DIST_GAUSSIAN, NAN, 1, buf, TLD),
         BPTT_EINVAL);
    TRAP(bpttf_init_random(TN, TN, BPTT_DIST_GAUSSIAN, 1e39, 1, (float *)buf,
                           TLD), BPTT_EINVAL); /* σ beyond float */
    TRAP(bptt_init_glorot(TN, TN, BPTT_DIST_GAUSSIAN, INFINITY, 1, buf, TLD),
         BPTT_EINVAL);
    TRAP(bptt_init_glorot(TN, TN, BPTT_NDIST, 1, 1, buf, TLD), BPTT_EINVAL);
    TRAP(bptt_init_glorot(TN, TN, BPTT_DIST_UNIFORM, 1, 1, buf, 1), BPTT_ELD);
    TRAP(bptt_init_orthogonal(TN, TN, 1, 1, NULL, TLD), BPTT_ENULL);
    TRAP(bptt_init_orthogonal(TN, 0, 1, 1, buf, TLD), BPTT_ESIZE);
    TRAP(bptt_init_orthogonal(TN, TN, 1, 1, buf, 2), BPTT_ELD);
    TRAP(bptt_init_orthogonal(TN, TN, -0.5, 1, buf, TLD), BPTT_EINVAL);
    TRAP(bptt_init_orthogonal(TN, TN, NAN, 1, buf, TLD), BPTT_EINVAL);
    /* p·q·8 bytes overflow size_t: refused before any allocation */
    TRAP(bptt_init_orthogonal(1, SIZE_MAX / 4, 1, 1, buf, SIZE_MAX / 4),
         BPTT_EOVERFLOW);
    TRAP(bptt_init_rescale_radius(TN, 1, NULL, TLD, &before), BPTT_ENULL);
    TRAP(bptt_init_rescale_radius(0, 1, buf, TLD, &before), BPTT_ESIZE);
    TRAP(bptt_init_rescale_radius(TN, 1, buf, TN - 1, &before), BPTT_ELD);
    TRAP(bptt_init_rescale_radius(TN, -1, buf, TLD, &before), BPTT_EINVAL);
    TRAP(bptt_init_rescale_radius(TN, INFINITY, buf, TLD, &before), BPTT_EINVAL);
    /* ρ = 0: a strictly upper triangular (nilpotent) block */
    for (size_t i = 0; i < TN; i++)
        for (size_t j = 0; j < TLD; j++)
            buf[i * TLD + j] = j > i ? 1 : 0;
    TRAP(bptt_init_rescale_radius(TN, 1, buf, TLD, &before), BPTT_EINVAL);
    /* ρ = 0.5, an entry 1e10 above the diagonal, scaled to 1e300: that
     * entry would become 2e310 */
    for (size_t i = 0; i < TN; i++)
        for (size_t j = 0; j < TLD; j++)
            buf[i * TLD + j] = i == j ? 0.5 : j == i + 1 ? 1e10 : 0;
    TRAP(bptt_init_rescale_radius(TN, 1e300, buf, TLD, &before), BPTT_EOVERFLOW);
    /* ρ = TN·1e308 exceeds the largest double: radius/ρ would be 0 and
     * wipe Wy out */
    for (size_t i = 0; i < TN; i++)
        for (size_t j = 0; j < TLD; j++)
            buf[i * TLD + j] = j < TN ? 1e308 : 0;
    TRAP(bptt_init_rescale_radius(TN, 1, buf, TLD, &before), BPTT_EOVERFLOW);
    buf[3] = NAN;
    TRAP(bptt_init_rescale_radius(TN, 1, buf, TLD, &before), BPTT_ENONFINITE);
    buf[3] = INFINITY;
    TRAP(bptt_init_rescale_radius(TN, 1, buf, TLD, &before), BPTT_ENONFINITE);
    ck_assert(before == 42);
    /* and a valid call on a valid block succeeds */
    ck_assert_int_eq(bptt_init_glorot(TN, TN, BPTT_DIST_UNIFORM, 1, 1, buf, TLD),
                     BPTT_OK);
    ck_assert_int_eq(bptt_init_rescale_radius(TN, 1, buf, TLD, &before), BPTT_OK);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("init");
    TCase *tc = tcase_create("init");
    tcase_add_test(tc, orthogonal_square);
    tcase_add_test(tc, orthogonal_rectangular_and_gain);
    tcase_add_test(tc, orthogonal_float);
    tcase_add_test(tc, same_seed_same_matrix);
    tcase_add_test(tc, float_draws_are_rounded_double_draws);
    tcase_add_test(tc, glorot_moments);
    tcase_add_test(tc, rescale_reaches_radius);
    tcase_add_test(tc, init_traps);
    tcase_add_test(tc, numeric_edges);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
