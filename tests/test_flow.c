/*
 * Gradient-flow diagnostics: spectral radius and norm of matrices whose
 * values are known in closed form or by power iteration; the error-flow
 * profile recorded by backward against a backward written here from the
 * equations of docs/derivation.md; the lag profile against a closed form
 * (linear units, scaled orthogonal Wy) and against that backward; traps.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Spectral radius and norm                                                  */
/* ------------------------------------------------------------------------ */

static double radius(size_t n, const double *A, size_t lda)
{
    double r = -1;
    ck_assert_int_eq(bptt_spectral_radius(n, A, lda, &r), BPTT_OK);
    return r;
}

static double snorm(size_t rows, size_t cols, const double *A, size_t lda)
{
    double s = -1;
    ck_assert_int_eq(bptt_spectral_norm(rows, cols, A, lda, &s), BPTT_OK);
    return s;
}

START_TEST(diagonal)
{
    enum { N = 4, LD = 6 };
    double A[N * LD] = {0};
    const double d[N] = {-3, 2, 0.5, 0};
    for (size_t i = 0; i < N; i++)
        A[i * LD + i] = d[i];
    A[0 * LD + 5] = NAN; /* padding beyond the row is never read */
    ck_assert_double_eq_tol(radius(N, A, LD), 3, 1e-15);
    ck_assert_double_eq_tol(snorm(N, N, A, LD), 3, 1e-15);
}
END_TEST

START_TEST(rotation)
{
    /* s·[[cos θ, −sin θ], [sin θ, cos θ]]: eigenvalues s·e^{±iθ}, complex,
     * of modulus s; s times an orthogonal matrix, so ‖A‖₂ = s too. */
    const double s = 1.7, th = 0.9;
    double A[4] = {s * cos(th), -s * sin(th), s * sin(th), s * cos(th)};
    ck_assert_double_eq_tol(radius(2, A, 2), s, 1e-14);
    ck_assert_double_eq_tol(snorm(2, 2, A, 2), s, 1e-14);
}
END_TEST

START_TEST(jordan)
{
    /* J = λI + N (ones on the superdiagonal), 5 x 5: every eigenvalue is λ.
     * J is already triangular, so ?geev finds λ exactly or nearly so. */
    enum { N = 5 };
    const double lam = 0.5;
    double J[N * N] = {0};
    for (size_t i = 0; i < N; i++) {
        J[i * N + i] = lam;
        if (i + 1 < N)
            J[i * N + i + 1] = 1;
    }
    ck_assert_double_eq_tol(radius(N, J, N), lam, 1e-12);
    /* N alone is nilpotent: ρ = 0 although ‖N‖₂ = 1 — the gap between the
     * two bounds that a non-normal Wy opens */
    for (size_t i = 0; i < N; i++)
        J[i * N + i] = 0;
    ck_assert_double_eq_tol(radius(N, J, N), 0, 1e-12);
    ck_assert_double_eq_tol(snorm(N, N, J, N), 1, 1e-14);
    /* [[a, 1], [0, a]]: σ_max = (1 + sqrt(1 + 4a²))/2 */
    const double a = 0.7;
    double J2[4] = {a, 1, 0, a};
    ck_assert_double_eq_tol(snorm(2, 2, J2, 2), (1 + sqrt(1 + 4 * a * a)) / 2,
                            1e-14);
    ck_assert_double_eq_tol(radius(2, J2, 2), a, 1e-7); /* (ε·‖J‖)^(1/2) */
}
END_TEST

START_TEST(rank_one)
{
    /* A = u vᵀ: ρ = |vᵀu|, ‖A‖₂ = ‖u‖‖v‖; 3 x 5 for the norm */
    enum { N = 6 };
    tu_rng r = {17};
    double u[N], v[N], A[N * N], uu = 0, vv = 0, vu = 0;
    for (size_t i = 0; i < N; i++) {
        u[i] = tu_uniform(&r);
        v[i] = tu_uniform(&r);
        uu += u[i] * u[i];
        vv += v[i] * v[i];
        vu += v[i] * u[i];
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++)
            A[i * N + j] = u[i] * v[j];
    ck_assert_double_eq_tol(radius(N, A, N), fabs(vu), 1e-14);
    ck_assert_double_eq_tol(snorm(N, N, A, N), sqrt(uu * vv), 1e-14);
    double uu3 = u[0] * u[0] + u[1] * u[1] + u[2] * u[2];
    ck_assert_double_eq_tol(snorm(3, 5, A, N),
                            sqrt(uu3 * (vv - v[5] * v[5])), 1e-14);
}
END_TEST

START_TEST(random_against_power_iteration)
{
    enum { N = 30, C = 20 };
    tu_rng r = {23};
    double A[N * N], x[N], y[N];
    /* Positive entries: the Perron root is real, simple and dominant, so
     * the power iteration converges to ρ (ratio |λ2|/ρ ≈ 0.1 here). */
    for (size_t i = 0; i < N * N; i++)
        A[i] = 0.5 * (tu_uniform(&r) + 1);
    for (size_t i = 0; i < N; i++)
        x[i] = 1;
    double lam = 0;
    for (int it = 0; it < 500; it++) {
        double nx = 0, ny = 0;
        for (size_t i = 0; i < N; i++) {
            y[i] = 0;
            for (size_t j = 0; j < N; j++)
                y[i] += A[i * N + j] * x[j];
            nx += x[i] * x[i];
            ny += y[i] * y[i];
        }
        lam = sqrt(ny / nx);
        for (size_t i = 0; i < N; i++)
            x[i] = y[i] / sqrt(ny);
    }
    ck_assert_double_le(fabs(radius(N, A, N) - lam), 1e-12 * lam);

    /* A general N x C matrix: ‖B‖₂² is the top eigenvalue of BᵀB, found by
     * the power iteration on BᵀB (its eigenvalues are real and >= 0). */
    double Bm[N * C], v[C], w[C], Bv[N];
    for (size_t i = 0; i < N * C; i++)
        Bm[i] = tu_uniform(&r);
    for (size_t j = 0; j < C; j++)
        v[j] = 1.0 / (1 + (double)j);
    double s2 = 0;
    for (int it = 0; it < 4000; it++) {
        for (size_t i = 0; i < N; i++) {
            Bv[i] = 0;
            for (size_t j = 0; j < C; j++)
                Bv[i] += Bm[i * C + j] * v[j];
        }
        double nw = 0;
        for (size_t j = 0; j < C; j++) {
            w[j] = 0;
            for (size_t i = 0; i < N; i++)
                w[j] += Bm[i * C + j] * Bv[i];
            nw += w[j] * w[j];
        }
        s2 = sqrt(nw); /* ‖BᵀB v‖ with ‖v‖ = 1 → σ_max² */
        for (size_t j = 0; j < C; j++)
            v[j] = w[j] / s2;
    }
    const double s = snorm(N, C, Bm, C);
    ck_assert_double_le(fabs(s - sqrt(s2)), 1e-12 * s);
    /* and ρ(A) <= ‖A‖₂ <= ‖A‖_F for the square one */
    double fro = 0;
    for (size_t i = 0; i < N * N; i++)
        fro += A[i] * A[i];
    ck_assert_double_le(radius(N, A, N), snorm(N, N, A, N) * (1 + 1e-14));
    ck_assert_double_le(snorm(N, N, A, N), sqrt(fro));
}
END_TEST

START_TEST(orthogonal_has_unit_radius_and_norm)
{
    enum { N = 33 };
    double Q[N * N];
    ck_assert_int_eq(bptt_init_orthogonal(N, N, 1.3, 5, Q, N), BPTT_OK);
    ck_assert_double_eq_tol(radius(N, Q, N), 1.3, 1e-12);
    ck_assert_double_eq_tol(snorm(N, N, Q, N), 1.3, 1e-12);
}
END_TEST

/* A float matrix whose ρ and ‖A‖₂ exceed FLT_MAX: both are returned in
 * double, so they are finite (LAPACK runs on a copy scaled by a power of
 * 2).  ρ = ‖A‖₂ = 2·FLT_MAX for the all-FLT_MAX 2 x 2 block. */
START_TEST(float_beyond_float_range)
{
    const float F[4] = {FLT_MAX, FLT_MAX, FLT_MAX, FLT_MAX};
    double rf = 0, nf = 0;
    ck_assert_int_eq(bpttf_spectral_radius(2, F, 2, &rf), BPTT_OK);
    ck_assert_int_eq(bpttf_spectral_norm(2, 2, F, 2, &nf), BPTT_OK);
    ck_assert_double_eq_tol(rf, 2.0 * FLT_MAX, TOL_FLOAT * 2.0 * FLT_MAX);
    ck_assert_double_eq_tol(nf, 2.0 * FLT_MAX, TOL_FLOAT * 2.0 * FLT_MAX);
}
END_TEST

START_TEST(float_against_double)
{
    enum { N = 25 };
    double A[N * N];
    float F[N * N];
    ck_assert_int_eq(bptt_init_glorot(N, N, BPTT_DIST_GAUSSIAN, 1, 9, A, N),
                     BPTT_OK);
    for (size_t i = 0; i < N * N; i++)
        F[i] = (float)A[i];
    double rf, nf;
    ck_assert_int_eq(bpttf_spectral_radius(N, F, N, &rf), BPTT_OK);
    ck_assert_int_eq(bpttf_spectral_norm(N, N, F, N, &nf), BPTT_OK);
    ck_assert_double_le(fabs(rf - radius(N, A, N)), TOL_FLOAT * rf);
    ck_assert_double_le(fabs(nf - snorm(N, N, A, N)), TOL_FLOAT * nf);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The recorded profile against a backward written here                      */
/* ------------------------------------------------------------------------ */

/* Units cycle through tanh, logistic, identity: f' follows from y = f(z)
 * (1 − y², y(1 − y), 1), so the backward below needs only y. */
static bptt_net *flow_net(size_t din, size_t dout)
{
    static const bptt_activation cycle[3] = {BPTT_ACT_TANH, BPTT_ACT_LOGISTIC,
                                             BPTT_ACT_IDENTITY};
    bptt_activation act[64];
    for (size_t i = 0; i < dout; i++)
        act[i] = cycle[i % 3];
    bptt_net *net = NULL;
    ck_assert_int_eq(bptt_net_create(din, dout, act, NULL, &net), BPTT_OK);
    return net;
}

static double fprime(size_t unit, double y)
{
    switch (unit % 3) {
    case 0:
        return 1 - y * y;
    case 1:
        return y * (1 - y);
    default:
        return 1;
    }
}

static double vnorm(size_t n, const double *v)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i] * v[i];
    return sqrt(s);
}

/* Eqs. (3), (7), (5) step by step for one sequence at a time: ‖g(t)‖ and
 * ‖δ(t)‖ into gn, dn at row (t−1)·B + b. */
static void flow_by_hand(const tu_problem *p, const double *y, const double *dy,
                         size_t lddy, double *gn, double *dn)
{
    const size_t din = p->din, n = p->dout, T = p->T, B = p->B;
    double *next = calloc(n, sizeof *next), *g = calloc(n, sizeof *g);
    for (size_t b = 0; b < B; b++) {
        for (size_t t = T; t >= 1; t--) {
            const size_t row = (t - 1) * B + b;
            for (size_t j = 0; j < n; j++) {
                g[j] = dy[row * lddy + j];
                if (t < T)
                    for (size_t i = 0; i < n; i++)
                        g[j] += p->W[i * p->ldw + din + j] * next[i];
            }
            gn[row] = vnorm(n, g);
            for (size_t j = 0; j < n; j++)
                next[j] = g[j] * fprime(j, y[row * p->ldy + j]);
            dn[row] = vnorm(n, next);
        }
    }
    free(next);
    free(g);
}

START_TEST(recorded_profile_is_the_gradient_norm)
{
    enum { DIN = 3, DOUT = 7, T = 9, B = 3 };
    tu_problem *p = tu_problem_new(flow_net(DIN, DOUT), T, B, 2,
                                   TU_BIAS | TU_Y0, 31);
    tu_rng r = {32};
    double *dy = tu_random(T * B * p->ldy, 1.0, &r);
    double *y = calloc(T * B * p->ldy, sizeof *y);
    double *dW = calloc(DOUT * p->ldw, sizeof *dW);
    double *dW0 = calloc(DOUT * p->ldw, sizeof *dW0);
    double gh[T * B], dh[T * B], gn[T * B], dn[T * B];
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_forward(p->net, T, B, p->W, p->ldw, p->b, p->x, p->ldx,
                                  p->y0, p->ldy0, y, p->ldy, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    flow_by_hand(p, y, dy, p->ldy, gh, dh);
    /* the gradient without recording, for comparison */
    ck_assert_int_eq(bptt_backward(p->net, T, B, p->W, p->ldw, dy, p->ldy, 0,
                                   dW0, p->ldw, NULL, NULL, 0, NULL, 0,
                                   BPTT_ALGO_GEMV_GER, ws), BPTT_OK);
    const bptt_algo algos[3] = {BPTT_ALGO_GEMV_GER, BPTT_ALGO_NAIVE,
                                BPTT_ALGO_DEFERRED};
    for (int a = 0; a < 3; a++) {
        memset(gn, 0, sizeof gn);
        memset(dn, 0, sizeof dn);
        ck_assert_int_eq(bptt_workspace_record_flow(ws, gn, dn), BPTT_OK);
        ck_assert_int_eq(bptt_backward(p->net, T, B, p->W, p->ldw, dy, p->ldy,
                                       0, dW, p->ldw, NULL, NULL, 0, NULL, 0,
                                       algos[a], ws), BPTT_OK);
        ck_assert_double_le(tu_relerr(1, T * B, gn, 0, gh, 0), TOL_REFERENCE);
        ck_assert_double_le(tu_relerr(1, T * B, dn, 0, dh, 0), TOL_REFERENCE);
        if (algos[a] == BPTT_ALGO_GEMV_GER) /* recording changes nothing */
            ck_assert(memcmp(dW, dW0, DOUT * p->ldw * sizeof *dW) == 0);
    }
    /* one array alone, then none: the other is not written */
    tu_snap snap = {0};
    tu_snap_add(&snap, dn, sizeof dn);
    ck_assert_int_eq(bptt_workspace_record_flow(ws, gn, NULL), BPTT_OK);
    ck_assert_int_eq(bptt_backward(p->net, T, B, p->W, p->ldw, dy, p->ldy, 0,
                                   dW, p->ldw, NULL, NULL, 0, NULL, 0,
                                   BPTT_ALGO_AUTO, ws), BPTT_OK);
    tu_assert_unwritten(&snap, "dn, not recorded");
    tu_snap_add(&snap, gn, sizeof gn);
    ck_assert_int_eq(bptt_workspace_record_flow(ws, NULL, NULL), BPTT_OK);
    ck_assert_int_eq(bptt_backward(p->net, T, B, p->W, p->ldw, dy, p->ldy, 0,
                                   dW, p->ldw, NULL, NULL, 0, NULL, 0,
                                   BPTT_ALGO_NAIVE, ws), BPTT_OK);
    tu_assert_unwritten(&snap, "gn, dn, not recorded");
    tu_snap_free(&snap);
    bptt_workspace_free(ws);
    free(dy);
    free(y);
    free(dW);
    free(dW0);
    tu_problem_free(p);
}
END_TEST

START_TEST(float_records_the_same_profile)
{
    enum { DIN = 2, DOUT = 6, T = 7, B = 2 };
    tu_problem *p = tu_problem_new(flow_net(DIN, DOUT), T, B, 0, TU_BIAS, 41);
    const size_t m = DIN + DOUT;
    float Wf[DOUT * (DIN + DOUT)], bf[DOUT], xf[T * B * DIN], yf[T * B * DOUT];
    float dyf[T * B * DOUT], dWf[DOUT * (DIN + DOUT)];
    double dy[T * B * DOUT], y[T * B * DOUT], gh[T * B], dh[T * B];
    double gn[T * B], dn[T * B];
    tu_rng r = {42};
    for (size_t i = 0; i < DOUT * m; i++)
        Wf[i] = (float)p->W[i];
    for (size_t i = 0; i < DOUT; i++)
        bf[i] = (float)p->b[i];
    for (size_t i = 0; i < T * B * DIN; i++)
        xf[i] = (float)p->x[i];
    for (size_t i = 0; i < T * B * DOUT; i++)
        dyf[i] = (float)(dy[i] = (float)tu_uniform(&r));
    bpttf_workspace *ws;
    ck_assert_int_eq(bpttf_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bpttf_workspace_record_flow(ws, gn, dn), BPTT_OK);
    ck_assert_int_eq(bpttf_forward(p->net, T, B, Wf, m, bf, xf, DIN, NULL, 0,
                                   yf, DOUT, BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_int_eq(bpttf_backward(p->net, T, B, Wf, m, dyf, DOUT, 0, dWf, m,
                                    NULL, NULL, 0, NULL, 0, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    for (size_t i = 0; i < T * B * DOUT; i++)
        y[i] = yf[i];
    /* the hand backward in double on the float weights and states */
    for (size_t i = 0; i < DOUT * m; i++)
        p->W[i] = Wf[i];
    flow_by_hand(p, y, dy, DOUT, gh, dh);
    ck_assert_double_le(tu_relerr(1, T * B, gn, 0, gh, 0), TOL_FLOAT);
    ck_assert_double_le(tu_relerr(1, T * B, dn, 0, dh, 0), TOL_FLOAT);
    bpttf_workspace_free(ws);
    tu_problem_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The lag profile                                                           */
/* ------------------------------------------------------------------------ */

START_TEST(lag_profile_of_linear_units_is_geometric)
{
    /* Identity units and Wy = c·Q, Q orthogonal: ∂L(T)/∂y(T−τ) = (cQᵀ)^τ v,
     * whose norm is exactly c^τ‖v‖ — decay (c < 1) or growth (c > 1) at
     * the rate ρ(Wy) = ‖Wy‖₂ = c, the linear case of §3.1.1. */
    enum { DIN = 2, DOUT = 6, M = DIN + DOUT, T = 30, B = 2, LDV = DOUT + 1 };
    bptt_net *net;
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_IDENTITY, NULL,
                                             &net), BPTT_OK);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(net, T, B, &ws), BPTT_OK);
    double W[DOUT * M], x[T * B * DIN], y[T * B * DOUT], v[B * LDV];
    double gn[T * B], dn[T * B];
    const double gains[2] = {0.8, 1.1};
    for (int k = 0; k < 2; k++) {
        const double c = gains[k];
        ck_assert_int_eq(bptt_init_glorot(DOUT, DIN, BPTT_DIST_UNIFORM, 1, 1, W,
                                          M), BPTT_OK);
        ck_assert_int_eq(bptt_init_orthogonal(DOUT, DOUT, c, 2, W + DIN, M),
                         BPTT_OK);
        ck_assert_int_eq(bptt_init_random(T * B, DIN, BPTT_DIST_GAUSSIAN, 1, 3,
                                          x, DIN), BPTT_OK);
        ck_assert_int_eq(bptt_init_random(B, DOUT, BPTT_DIST_GAUSSIAN, 1, 4, v,
                                          LDV), BPTT_OK);
        ck_assert_int_eq(bptt_forward(net, T, B, W, M, NULL, x, DIN, NULL, 0,
                                      y, DOUT, BPTT_ALGO_AUTO, ws), BPTT_OK);
        ck_assert_int_eq(bptt_flow_lag_profile(net, T, B, W, M, v, LDV, gn, dn,
                                               ws), BPTT_OK);
        for (size_t b = 0; b < B; b++) {
            const double v0 = vnorm(DOUT, v + b * LDV);
            for (size_t tau = 0; tau < T; tau++) {
                const double want = pow(c, (double)tau) * v0;
                ck_assert_double_le(fabs(gn[tau * B + b] - want), 1e-12 * want);
                ck_assert(dn[tau * B + b] == gn[tau * B + b]); /* f' = 1 */
            }
        }
    }
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

/* With the non-finite check on, a NaN in dyT is an answer of the profile
 * (NaN norms), not an error of an inner backward; the check stays on. */
START_TEST(lag_profile_ignores_the_finite_check)
{
    enum { DIN = 2, DOUT = 3, T = 4, B = 2 };
    tu_problem *p = tu_problem_new(flow_net(DIN, DOUT), T, B, 1, TU_BIAS, 53);
    double *y = calloc(T * B * p->ldy, sizeof *y);
    double *dy = calloc(T * B * p->ldy, sizeof *dy);
    double dyT[B * DOUT], gn[T * B], dn[T * B];
    for (size_t i = 0; i < B * DOUT; i++)
        dyT[i] = 0.5;
    dyT[DOUT] = NAN; /* sequence 1 */
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_check_finite(ws, 1), BPTT_OK);
    ck_assert_int_eq(bptt_forward(p->net, T, B, p->W, p->ldw, p->b, p->x, p->ldx,
                                  NULL, 0, y, p->ldy, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_flow_lag_profile(p->net, T, B, p->W, p->ldw, dyT,
                                           DOUT, gn, dn, ws), BPTT_OK);
    for (size_t tau = 0; tau < T; tau++) {
        ck_assert(isfinite(gn[tau * B]) && isfinite(dn[tau * B]));
        ck_assert(isnan(gn[tau * B + 1]) && isnan(dn[tau * B + 1]));
    }
    ck_assert_double_eq_tol(gn[0], 0.5 * sqrt((double)DOUT), 1e-15);
    dy[0] = NAN;
    ck_assert_int_eq(bptt_backward(p->net, T, B, p->W, p->ldw, dy, p->ldy, 0,
                                   NULL, 0, NULL, NULL, 0, NULL, 0,
                                   BPTT_ALGO_AUTO, ws), BPTT_ENONFINITE);
    bptt_workspace_free(ws);
    free(y);
    free(dy);
    tu_problem_free(p);
}
END_TEST

START_TEST(lag_profile_is_the_last_loss_backward)
{
    enum { DIN = 3, DOUT = 5, T = 12, B = 2 };
    tu_problem *p = tu_problem_new(flow_net(DIN, DOUT), T, B, 1,
                                   TU_BIAS | TU_Y0, 51);
    double *y = calloc(T * B * p->ldy, sizeof *y);
    double *dy = calloc(T * B * p->ldy, sizeof *dy);
    double *dW = calloc(DOUT * p->ldw, sizeof *dW);
    double gh[T * B], dh[T * B], gn[T * B], dn[T * B], rec[T * B];
    for (size_t b = 0; b < B; b++) /* the default dyT: (1, ..., 1)/√dout */
        for (size_t j = 0; j < DOUT; j++)
            dy[((T - 1) * B + b) * p->ldy + j] = 1 / sqrt((double)DOUT);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    /* a recording the caller set must survive the profile untouched */
    for (size_t i = 0; i < T * B; i++)
        rec[i] = -2;
    ck_assert_int_eq(bptt_workspace_record_flow(ws, rec, NULL), BPTT_OK);
    ck_assert_int_eq(bptt_forward(p->net, T, B, p->W, p->ldw, p->b, p->x, p->ldx,
                                  p->y0, p->ldy0, y, p->ldy, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_flow_lag_profile(p->net, T, B, p->W, p->ldw, NULL, 0,
                                           gn, dn, ws), BPTT_OK);
    for (size_t i = 0; i < T * B; i++)
        ck_assert(rec[i] == -2);
    flow_by_hand(p, y, dy, p->ldy, gh, dh);
    for (size_t tau = 0; tau < T; tau++)
        for (size_t b = 0; b < B; b++) {
            const size_t row = (T - 1 - tau) * B + b;
            ck_assert_double_le(fabs(gn[tau * B + b] - gh[row]),
                                TOL_REFERENCE * gh[row]);
            ck_assert_double_le(fabs(dn[tau * B + b] - dh[row]),
                                TOL_REFERENCE * dh[row]);
        }
    ck_assert_double_eq_tol(gn[0], 1, 1e-15);
    /* the forward is kept: a backward follows, recording into rec */
    ck_assert_int_eq(bptt_backward(p->net, T, B, p->W, p->ldw, dy, p->ldy, 0,
                                   dW, p->ldw, NULL, NULL, 0, NULL, 0,
                                   BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_double_le(fabs(rec[0] - gh[0]), TOL_REFERENCE * gh[0]);
    free(dW);
    bptt_workspace_free(ws);
    free(y);
    free(dy);
    tu_problem_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The gated cells' profile (bptt_gated_flow_lag_profile)                    */
/* ------------------------------------------------------------------------ */

enum { GD = 3, GN = 4, GM = GD + GN, GT = 9, GB = 2 };

/* A gated cell's random problem: W = [W | U] ((G·n) x m), the biases
 * (bx, bh), x, and its forward kept in a new workspace (h out). */
typedef struct gated_case {
    bptt_cell cell;
    size_t G;
    double W[4 * GN * GM], bx[4 * GN], bh[4 * GN], x[GT * GB * GD];
    double h[GT * GB * GN];
    bptt_gated_workspace *ws;
} gated_case;

static void gated_case_make(gated_case *c, bptt_cell cell, unsigned seed)
{
    tu_rng r = {seed};
    c->cell = cell;
    c->G = bptt_gated_gates(cell);
    for (size_t i = 0; i < c->G * GN * GM; i++)
        c->W[i] = tu_uniform(&r);
    for (size_t i = 0; i < c->G * GN; i++) {
        c->bx[i] = 0.5 * tu_uniform(&r);
        c->bh[i] = 0.5 * tu_uniform(&r);
    }
    for (size_t i = 0; i < GT * GB * GD; i++)
        c->x[i] = tu_uniform(&r);
    ck_assert_int_eq(bptt_gated_workspace_alloc(cell, GD, GN, GT, GB, &c->ws),
                     BPTT_OK);
}

static void gated_case_forward(gated_case *c)
{
    ck_assert_int_eq(bptt_gated_forward(GT, GB, c->W, GM, c->W + GD, GM, c->bx,
                                        c->bh, c->x, GD, NULL, 0, NULL, 0,
                                        c->h, GN, NULL, 0, BPTT_ALGO_AUTO,
                                        c->ws), BPTT_OK);
}

/* The profile is the naive backward of (0, ..., 0, dhT) recorded by
 * bptt_gated_workspace_record_flow, read backwards; the caller's own
 * recording and the forward survive it. */
START_TEST(gated_lag_profile_is_the_last_loss_backward)
{
    static gated_case c;
    gated_case_make(&c, _i ? BPTT_CELL_GRU : BPTT_CELL_LSTM, 71);
    double dhT[GB * GN], dh[GT * GB * GN] = {0}, gh[GT * GB], dd[GT * GB];
    double gn[GT * GB], dn[GT * GB], rec[GT * GB];
    tu_rng r = {72};
    for (size_t i = 0; i < GB * GN; i++)
        dh[(GT - 1) * GB * GN + i] = dhT[i] = tu_uniform(&r);
    for (size_t i = 0; i < GT * GB; i++)
        rec[i] = -2;
    ck_assert_int_eq(bptt_gated_workspace_record_flow(c.ws, rec, NULL),
                     BPTT_OK);
    gated_case_forward(&c);
    ck_assert_int_eq(bptt_gated_flow_lag_profile(GT, GB, c.W, GM, c.W + GD,
                                                 GM, dhT, GN, gn, dn, c.ws),
                     BPTT_OK);
    for (size_t i = 0; i < GT * GB; i++)
        ck_assert(rec[i] == -2);
    /* the reference: the naive backward, recorded the documented way */
    ck_assert_int_eq(bptt_gated_workspace_record_flow(c.ws, gh, dd), BPTT_OK);
    ck_assert_int_eq(bptt_gated_backward(GT, GB, c.W, GM, c.W + GD, GM, dh, GN,
                                         NULL, 0, 0, NULL, 0, NULL, 0, NULL,
                                         NULL, NULL, 0, NULL, 0, NULL, 0,
                                         BPTT_ALGO_NAIVE, c.ws), BPTT_OK);
    for (size_t tau = 0; tau < GT; tau++)
        for (size_t b = 0; b < GB; b++) {
            const size_t row = (GT - 1 - tau) * GB + b;
            ck_assert_double_le(fabs(gn[tau * GB + b] - gh[row]),
                                TOL_REFERENCE * gh[row]);
            ck_assert_double_le(fabs(dn[tau * GB + b] - dd[row]),
                                TOL_REFERENCE * dd[row]);
        }
    /* lag 0 is the loss's own gradient: ‖dhT row b‖ */
    for (size_t b = 0; b < GB; b++)
        ck_assert_double_le(fabs(gn[b] - vnorm(GN, dhT + b * GN)),
                            1e-15 * gn[b]);
    /* float: the same profile to float's rounding */
    float fW[4 * GN * GM], fbx[4 * GN], fbh[4 * GN], fx[GT * GB * GD];
    float fh[GT * GB * GN];
    for (size_t i = 0; i < c.G * GN * GM; i++)
        fW[i] = (float)c.W[i];
    for (size_t i = 0; i < c.G * GN; i++)
        fbx[i] = (float)c.bx[i], fbh[i] = (float)c.bh[i];
    for (size_t i = 0; i < GT * GB * GD; i++)
        fx[i] = (float)c.x[i];
    bpttf_gated_workspace *fws;
    ck_assert_int_eq(bpttf_gated_workspace_alloc(c.cell, GD, GN, GT, GB, &fws),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_gated_forward(GT, GB, fW, GM, fW + GD, GM, fbx, fbh,
                                         fx, GD, NULL, 0, NULL, 0, fh, GN,
                                         NULL, 0, BPTT_ALGO_AUTO, fws),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_gated_flow_lag_profile(GT, GB, fW, GM, fW + GD, GM,
                                                  NULL, 0, rec, NULL, fws),
                     BPTT_OK);
    /* dhT NULL: (1, ..., 1)/√n, of norm 1 */
    for (size_t b = 0; b < GB; b++)
        ck_assert_double_le(fabs(rec[b] - 1), 1e-6);
    bpttf_gated_workspace_free(fws);
    bptt_gated_workspace_free(c.ws);
}
END_TEST

/* Saturated gates, exact identities (docs/gated.md, "Error flow"):
 *   GRU, update gate z = 1 (bx_z = 1000: σ = 1 and σ' = 0 in double):
 *     h(t+1) = h(t), every delta 0, so ḡ(t) = ḡ(t+1): the error of the
 *     last step is carried back unchanged, gnorm[τ] = ‖dhT‖ for every τ;
 *   LSTM, f = 1, i = 0, o = 1 (biases ±1000) from c(0) = 0: c stays 0,
 *     every delta is 0, and no error reaches an earlier h (it stays on
 *     the cell state): gnorm[τ] = 0 for τ >= 1.
 * dnorm is 0 at every lag in both. */
START_TEST(gated_lag_profile_saturated_gates)
{
    static gated_case c;
    const int gru = _i;
    gated_case_make(&c, gru ? BPTT_CELL_GRU : BPTT_CELL_LSTM, 73);
    for (size_t j = 0; j < GN; j++) {
        if (gru) {
            c.bx[GN + j] = 1000; /* z */
        } else {
            c.bx[j] = -1000;         /* i */
            c.bx[GN + j] = 1000;     /* f */
            c.bx[3 * GN + j] = 1000; /* o */
        }
    }
    gated_case_forward(&c);
    double gn[GT * GB], dn[GT * GB];
    ck_assert_int_eq(bptt_gated_flow_lag_profile(GT, GB, c.W, GM, c.W + GD,
                                                 GM, NULL, 0, gn, dn, c.ws),
                     BPTT_OK);
    for (size_t tau = 0; tau < GT; tau++)
        for (size_t b = 0; b < GB; b++) {
            const double want = gru || tau == 0 ? 1 : 0;
            ck_assert_msg(fabs(gn[tau * GB + b] - want) <= 1e-15,
                          "lag %zu: %.17g, want %g", tau, gn[tau * GB + b],
                          want);
            ck_assert_msg(dn[tau * GB + b] == 0, "lag %zu: dnorm %g", tau,
                          dn[tau * GB + b]);
        }
    bptt_gated_workspace_free(c.ws);
}
END_TEST

START_TEST(gated_lag_profile_traps)
{
    static gated_case c;
    gated_case_make(&c, BPTT_CELL_LSTM, 74);
    double gn[GT * GB], dn[GT * GB], dhT[GB * GN] = {0};
    const double *U = c.W + GD;
#define GTRAP(call, want)                                                      \
    do {                                                                       \
        for (size_t i_ = 0; i_ < GT * GB; i_++)                                \
            gn[i_] = dn[i_] = -3;                                              \
        ck_assert_int_eq((call), (want));                                      \
        for (size_t i_ = 0; i_ < GT * GB; i_++)                                \
            ck_assert(gn[i_] == -3 && dn[i_] == -3);                           \
    } while (0)
    GTRAP(bptt_gated_flow_lag_profile(GT, GB, c.W, GM, U, GM, NULL, 0, gn, dn,
                                      c.ws), BPTT_ENOFORWARD);
    gated_case_forward(&c);
    GTRAP(bptt_gated_flow_lag_profile(GT, GB, c.W, GM, U, GM, NULL, 0, NULL,
                                      dn, c.ws), BPTT_ENULL);
    GTRAP(bptt_gated_flow_lag_profile(GT, GB, c.W, GM, U, GM, NULL, 0, gn, dn,
                                      NULL), BPTT_ENULL);
    GTRAP(bptt_gated_flow_lag_profile(GT, GB, NULL, GM, U, GM, NULL, 0, gn,
                                      dn, c.ws), BPTT_ENULL);
    GTRAP(bptt_gated_flow_lag_profile(GT, GB, c.W, GM, NULL, GM, NULL, 0, gn,
                                      dn, c.ws), BPTT_ENULL);
    GTRAP(bptt_gated_flow_lag_profile(0, GB, c.W, GM, U, GM, NULL, 0, gn, dn,
                                      c.ws), BPTT_ESIZE);
    GTRAP(bptt_gated_flow_lag_profile(GT, 0, c.W, GM, U, GM, NULL, 0, gn, dn,
                                      c.ws), BPTT_ESIZE);
    GTRAP(bptt_gated_flow_lag_profile(GT + 1, GB, c.W, GM, U, GM, NULL, 0, gn,
                                      dn, c.ws), BPTT_ECAPACITY);
    GTRAP(bptt_gated_flow_lag_profile(GT - 1, GB, c.W, GM, U, GM, NULL, 0, gn,
                                      dn, c.ws), BPTT_ENOFORWARD);
    GTRAP(bptt_gated_flow_lag_profile(GT, GB, c.W, GM, U, GM, dhT, GN - 1, gn,
                                      dn, c.ws), BPTT_ELD);
    GTRAP(bptt_gated_flow_lag_profile(GT, GB, c.W, GD - 1, U, GM, NULL, 0, gn,
                                      dn, c.ws), BPTT_ELD);
    GTRAP(bptt_gated_flow_lag_profile(GT, GB, c.W, GM, U, GN - 1, NULL, 0, gn,
                                      dn, c.ws), BPTT_ELD);
#undef GTRAP
    /* after all that, the forward is still there */
    ck_assert_int_eq(bptt_gated_flow_lag_profile(GT, GB, c.W, GM, U, GM, dhT,
                                                 GN, gn, NULL, c.ws), BPTT_OK);
    ck_assert(gn[0] == 0); /* a zero loss gradient */
    bptt_gated_workspace_free(c.ws);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Traps                                                                     */
/* ------------------------------------------------------------------------ */

enum { XD = 2, XN = 3, XM = XD + XN, XT = 4, XB = 2 };
typedef struct arena {
    double A[XN * XN], W[XN * XM], x[XT * XB * XD], y[XT * XB * XN];
    double dyT[XB * XN], gn[XT * XB], dn[XT * XB], out;
    unsigned char wsbuf[4096];
} arena;
static arena *a;

#define TRAP(call, want) TU_REFUSED_REGION(call, want, a, sizeof *a)

START_TEST(flow_traps)
{
    a = malloc(sizeof *a);
    tu_rng r = {61};
    double *d = (double *)a;
    for (size_t i = 0; i < offsetof(arena, wsbuf) / sizeof(double); i++)
        d[i] = tu_uniform(&r);
    memset(a->wsbuf, 0x5A, sizeof a->wsbuf);
    bptt_net *net = flow_net(XD, XN), *other = flow_net(XD, XN);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_init(net, XT, XB, a->wsbuf, sizeof a->wsbuf,
                                         &ws), BPTT_OK);

    TRAP(bptt_spectral_radius(XN, NULL, XN, &a->out), BPTT_ENULL);
    TRAP(bptt_spectral_radius(XN, a->A, XN, NULL), BPTT_ENULL);
    TRAP(bptt_spectral_radius(0, a->A, XN, &a->out), BPTT_ESIZE);
    TRAP(bptt_spectral_radius(XN, a->A, XN - 1, &a->out), BPTT_ELD);
    TRAP(bptt_spectral_radius(XN, a->A, (size_t)INT32_MAX + 1, &a->out),
         BPTT_EOVERFLOW);
    TRAP(bptt_spectral_norm((size_t)INT32_MAX + 1, 1, a->A, 1, &a->out),
         BPTT_EOVERFLOW); /* rows above LAPACK's int */
    TRAP(bptt_spectral_norm(XN, 0, a->A, XN, &a->out), BPTT_ESIZE);
    TRAP(bptt_spectral_norm(XN, XN, a->A, 1, &a->out), BPTT_ELD);
    TRAP(bptt_spectral_norm(XN, XN, NULL, XN, &a->out), BPTT_ENULL);
    TRAP(bptt_spectral_norm(SIZE_MAX / 2, XN, a->A, XN, &a->out),
         BPTT_EOVERFLOW);
    a->A[4] = NAN;
    TRAP(bptt_spectral_radius(XN, a->A, XN, &a->out), BPTT_ENONFINITE);
    TRAP(bptt_spectral_norm(XN, XN, a->A, XN, &a->out), BPTT_ENONFINITE);
    a->A[4] = -INFINITY;
    TRAP(bptt_spectral_radius(XN, a->A, XN, &a->out), BPTT_ENONFINITE);
    TRAP(bpttf_spectral_radius(1, (const float *)&(float){INFINITY}, 1,
                               &a->out), BPTT_ENONFINITE);
    a->A[4] = 0.25;
    TRAP(bptt_workspace_record_flow(NULL, a->gn, a->dn), BPTT_ENULL);

    /* the lag profile: before any forward, then with one */
    TRAP(bptt_flow_lag_profile(net, XT, XB, a->W, XM, NULL, 0, a->gn, a->dn,
                               ws), BPTT_ENOFORWARD);
    ck_assert_int_eq(bptt_forward(net, XT, XB, a->W, XM, NULL, a->x, XD, NULL,
                                  0, a->y, XN, BPTT_ALGO_AUTO, ws), BPTT_OK);
    TRAP(bptt_flow_lag_profile(NULL, XT, XB, a->W, XM, NULL, 0, a->gn, a->dn,
                               ws), BPTT_ENULL);
    TRAP(bptt_flow_lag_profile(net, XT, XB, NULL, XM, NULL, 0, a->gn, a->dn,
                               ws), BPTT_ENULL);
    TRAP(bptt_flow_lag_profile(net, XT, XB, a->W, XM, NULL, 0, NULL, a->dn,
                               ws), BPTT_ENULL);
    TRAP(bptt_flow_lag_profile(net, XT, XB, a->W, XM, NULL, 0, a->gn, a->dn,
                               NULL), BPTT_ENULL);
    TRAP(bptt_flow_lag_profile(other, XT, XB, a->W, XM, NULL, 0, a->gn, a->dn,
                               ws), BPTT_EMISMATCH);
    TRAP(bptt_flow_lag_profile(net, 0, XB, a->W, XM, NULL, 0, a->gn, a->dn,
                               ws), BPTT_ESIZE);
    TRAP(bptt_flow_lag_profile(net, XT + 1, XB, a->W, XM, NULL, 0, a->gn,
                               a->dn, ws), BPTT_ECAPACITY);
    TRAP(bptt_flow_lag_profile(net, XT - 1, XB, a->W, XM, NULL, 0, a->gn,
                               a->dn, ws), BPTT_ENOFORWARD);
    TRAP(bptt_flow_lag_profile(net, XT, XB, a->W, XM - 1, NULL, 0, a->gn,
                               a->dn, ws), BPTT_ELD);
    TRAP(bptt_flow_lag_profile(net, XT, XB, a->W, XM, a->dyT, XN - 1, a->gn,
                               a->dn, ws), BPTT_ELD);
    TRAP(bptt_flow_lag_profile(net, XT, XB, a->W, XM, a->dyT, SIZE_MAX / 4,
                               a->gn, a->dn, ws), BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_flow_lag_profile(net, XT, XB, a->W, XM, a->dyT, XN,
                                           a->gn, a->dn, ws), BPTT_OK);
    bptt_net_free(net);
    bptt_net_free(other);
    free(a);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("flow");
    TCase *tc = tcase_create("spectral");
    tcase_add_test(tc, diagonal);
    tcase_add_test(tc, rotation);
    tcase_add_test(tc, jordan);
    tcase_add_test(tc, rank_one);
    tcase_add_test(tc, random_against_power_iteration);
    tcase_add_test(tc, orthogonal_has_unit_radius_and_norm);
    tcase_add_test(tc, float_against_double);
    tcase_add_test(tc, float_beyond_float_range);
    suite_add_tcase(s, tc);
    tc = tcase_create("profile");
    tcase_add_test(tc, recorded_profile_is_the_gradient_norm);
    tcase_add_test(tc, float_records_the_same_profile);
    tcase_add_test(tc, lag_profile_of_linear_units_is_geometric);
    tcase_add_test(tc, lag_profile_is_the_last_loss_backward);
    tcase_add_test(tc, lag_profile_ignores_the_finite_check);
    tcase_add_test(tc, flow_traps);
    tcase_add_loop_test(tc, gated_lag_profile_is_the_last_loss_backward, 0, 2);
    tcase_add_loop_test(tc, gated_lag_profile_saturated_gates, 0, 2);
    tcase_add_test(tc, gated_lag_profile_traps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
