/*
 * Reference tests: every fast path against the naive loop form, block by
 * block (x- and y-columns of dL/dW, dL/db, dL/dx, dL/dy0), and single
 * precision against double.
 */
#include <check.h>
#include <stdlib.h>

#include "testutil.h"

typedef struct shape {
    size_t din, dout, T, B, pad;
    int flags;
} shape;

/* din ≠ dout, sizes 1 and primes, padded leading dimensions, masks. */
static const shape shapes[] = {
    {1, 1, 1, 1, 0, 0},
    {1, 1, 7, 1, 2, TU_Y0 | TU_MASK},
    {3, 5, 11, 1, 1, TU_BIAS | TU_Y0 | TU_MASK},
    {7, 2, 13, 1, 3, TU_BIAS},
    {2, 13, 17, 1, 0, TU_Y0 | TU_MASK},
    {13, 31, 23, 1, 5, TU_BIAS | TU_Y0 | TU_MASK},
    {5, 3, 9, 3, 2, TU_BIAS | TU_Y0 | TU_MASK},
    {11, 17, 19, 7, 1, TU_BIAS | TU_Y0 | TU_MASK},
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static void compare_blocks(const tu_problem *p, const tu_grads *a,
                           const tu_grads *ref, double tol, const char *what)
{
    const size_t TB = p->T * p->B;
    double e;
    e = tu_relerr(TB, p->dout, a->y, p->ldy, ref->y, p->ldy);
    ck_assert_msg(e <= tol, "%s: y relerr %g", what, e);
    e = tu_relerr(p->dout, p->din, a->dW, p->ldw, ref->dW, p->ldw);
    ck_assert_msg(e <= tol, "%s: dW x-columns relerr %g", what, e);
    e = tu_relerr(p->dout, p->dout, a->dW + p->din, p->ldw, ref->dW + p->din,
                  p->ldw);
    ck_assert_msg(e <= tol, "%s: dW y-columns relerr %g", what, e);
    e = tu_relerr(1, p->dout, a->db, p->dout, ref->db, p->dout);
    ck_assert_msg(e <= tol, "%s: db relerr %g", what, e);
    e = tu_relerr(TB, p->din, a->dx, p->ldx, ref->dx, p->ldx);
    ck_assert_msg(e <= tol, "%s: dx relerr %g", what, e);
    e = tu_relerr(p->B, p->dout, a->dy0, p->ldy0, ref->dy0, p->ldy0);
    ck_assert_msg(e <= tol, "%s: dy0 relerr %g", what, e);
    ck_assert_double_eq_tol(a->loss, ref->loss, tol * (1 + ref->loss));
}

START_TEST(fast_algorithms_match_naive)
{
    const shape *s = &shapes[_i];
    tu_problem *p = tu_problem_new(tu_mixed_net(s->din, s->dout), s->T, s->B,
                                   s->pad, s->flags, 100 + _i);
    tu_grads ref = {0};
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_NAIVE, &ref), BPTT_OK);
    /* every other algorithm, AUTO included */
    for (int algo = 0; algo < BPTT_NALGO; algo++) {
        if (algo == BPTT_ALGO_NAIVE)
            continue;
        tu_grads fast = {0};
        ck_assert_int_eq(tu_gradients(p, algo, &fast), BPTT_OK);
        compare_blocks(p, &fast, &ref, TOL_REFERENCE, bptt_algo_name(algo));
        tu_grads_free(&fast);
    }
    tu_grads_free(&ref);
    tu_problem_free(p);
}
END_TEST

/* The same problem in float: convert, run bpttf_*, compare to double. */
static float *to_float(const double *a, size_t n)
{
    if (!a)
        return NULL;
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)a[i];
    return f;
}

static double *to_double(const float *a, size_t n)
{
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = a[i];
    return d;
}

START_TEST(float_matches_double)
{
    const shape *s = &shapes[_i];
    tu_problem *p = tu_problem_new(tu_mixed_net(s->din, s->dout), s->T, s->B,
                                   s->pad, s->flags, 200 + _i);
    const size_t T = p->T, B = p->B, TB = T * B;
    tu_grads ref = {0};
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_NAIVE, &ref), BPTT_OK);

    float *W = to_float(p->W, p->dout * p->ldw), *b = to_float(p->b, p->dout);
    float *x = to_float(p->x, TB * p->ldx), *y0 = to_float(p->y0, B * p->ldy0);
    float *tg = to_float(p->target, TB * p->ldy);
    float *y = calloc(TB * p->ldy, sizeof *y), *dy = calloc(TB * p->ldy, 4);
    float *dW = calloc(p->dout * p->ldw, 4), *db = calloc(p->dout, 4);
    float *dx = calloc(TB * p->ldx, 4), *dy0 = calloc(B * p->ldy0, 4);
    for (int algo = BPTT_ALGO_NAIVE; algo < BPTT_NALGO; algo++) {
        bpttf_workspace *ws;
        double loss;
        ck_assert_int_eq(bpttf_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
        ck_assert_int_eq(bpttf_forward(p->net, T, B, W, p->ldw, b, x, p->ldx,
                                       y0, p->ldy0, y, p->ldy, algo, ws),
                         BPTT_OK);
        ck_assert_int_eq(bpttf_loss_squared(T, B, p->dout, y, p->ldy, tg,
                                            p->ldy, p->mask, &loss, dy, p->ldy),
                         BPTT_OK);
        ck_assert_int_eq(bpttf_backward(p->net, T, B, W, p->ldw, dy, p->ldy,
                                        0.0f, dW, p->ldw, db, dx, p->ldx, dy0,
                                        p->ldy0, algo, ws),
                         BPTT_OK);
        bpttf_workspace_free(ws);
        tu_grads g = {loss, to_double(y, TB * p->ldy),
                      to_double(dW, p->dout * p->ldw), to_double(db, p->dout),
                      to_double(dx, TB * p->ldx), to_double(dy0, B * p->ldy0)};
        compare_blocks(p, &g, &ref, TOL_FLOAT, bptt_algo_name(algo));
        tu_grads_free(&g);
    }
    free(W), free(b), free(x), free(y0), free(tg), free(y), free(dy);
    free(dW), free(db), free(dx), free(dy0);
    tu_grads_free(&ref);
    tu_problem_free(p);
}
END_TEST

/* Forward alone: the BLAS form against the naive loops. */
START_TEST(forward_matches_naive)
{
    const shape *s = &shapes[_i];
    tu_problem *p = tu_problem_new(tu_mixed_net(s->din, s->dout), s->T, s->B,
                                   s->pad, s->flags, 300 + _i);
    tu_grads n = {0};
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_NAIVE, &n), BPTT_OK);
    for (int algo = BPTT_ALGO_GEMV_GER; algo < BPTT_NALGO; algo++) {
        tu_grads a = {0};
        ck_assert_int_eq(tu_gradients(p, algo, &a), BPTT_OK);
        double e = tu_relerr(p->T * p->B, p->dout, a.y, p->ldy, n.y, p->ldy);
        ck_assert_msg(e <= 1e-14, "%s forward relerr %g", bptt_algo_name(algo), e);
        tu_grads_free(&a);
    }
    tu_grads_free(&n);
    tu_problem_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("reference");
    TCase *tc = tcase_create("naive");
    tcase_add_loop_test(tc, fast_algorithms_match_naive, 0, NSHAPES);
    tcase_add_loop_test(tc, forward_matches_naive, 0, NSHAPES);
    tcase_add_loop_test(tc, float_matches_double, 0, NSHAPES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
