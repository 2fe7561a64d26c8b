/*
 * Gradient checks: both algorithms against central differences of the
 * loss, (L(θ + h) − L(θ − h)) / 2h with h = TU_FD_STEP·max(1, |θ|), on every
 * block — entry by entry on small problems, and along one random direction
 * on a larger one (KANN's check: two extra forward passes in all).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "testutil.h"

/* dL/dθ for every θ of the array a (n entries at stride 1 over rows of
 * cols with leading dimension ld), by central differences. */
static void fd_block(tu_problem *p, double *a, size_t rows, size_t cols,
                     size_t ld, double *fd)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double *th = &a[i * ld + j], keep = *th;
            double h = TU_FD_STEP * fmax(1.0, fabs(keep));
            *th = keep + h;
            double lp = tu_loss(p);
            *th = keep - h;
            double lm = tu_loss(p);
            *th = keep;
            fd[i * ld + j] = (lp - lm) / (2 * h);
        }
}

static void check_problem(tu_problem *p, bptt_algo algo)
{
    tu_grads g = {0};
    ck_assert_int_eq(tu_gradients(p, algo, &g), BPTT_OK);
    const size_t TB = p->T * p->B;
    double *fd = calloc(TB * p->ldx + p->dout * p->ldw + p->B * p->ldy0, sizeof *fd);
    double e;

    fd_block(p, p->W, p->dout, p->m, p->ldw, fd);
    e = tu_relerr(p->dout, p->m, g.dW, p->ldw, fd, p->ldw);
    ck_assert_msg(e <= TOL_GRADCHECK, "%s dW: relerr %g", bptt_algo_name(algo), e);
    if (p->b) {
        fd_block(p, p->b, 1, p->dout, p->dout, fd);
        e = tu_relerr(1, p->dout, g.db, p->dout, fd, p->dout);
        ck_assert_msg(e <= TOL_GRADCHECK, "db: relerr %g", e);
    }
    fd_block(p, p->x, TB, p->din, p->ldx, fd);
    e = tu_relerr(TB, p->din, g.dx, p->ldx, fd, p->ldx);
    ck_assert_msg(e <= TOL_GRADCHECK, "dx: relerr %g", e);
    if (p->y0) {
        fd_block(p, p->y0, p->B, p->dout, p->ldy0, fd);
        e = tu_relerr(p->B, p->dout, g.dy0, p->ldy0, fd, p->ldy0);
        ck_assert_msg(e <= TOL_GRADCHECK, "dy0: relerr %g", e);
    }
    free(fd);
    tu_grads_free(&g);
}

START_TEST(entrywise_small)
{
    static const bptt_algo algos[] = {BPTT_ALGO_NAIVE, BPTT_ALGO_GEMV_GER,
                                      BPTT_ALGO_DEFERRED};
    tu_problem *p = tu_problem_new(tu_mixed_net(3, 6), 6, 2, 1,
                                   TU_BIAS | TU_Y0 | TU_MASK, 7);
    check_problem(p, algos[_i]);
    tu_problem_free(p);
}
END_TEST

START_TEST(entrywise_single_sequence)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(2, 7), 9, 1, 0, TU_Y0, 11);
    check_problem(p, _i == 0 ? BPTT_ALGO_GEMV_GER : BPTT_ALGO_DEFERRED);
    tu_problem_free(p);
}
END_TEST

/* Along a random direction V over (W, x): <g, V> against the difference. */
START_TEST(directional_larger)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(8, 12), 20, 3, 2,
                                   TU_BIAS | TU_Y0 | TU_MASK, 13);
    tu_grads g = {0};
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_DEFERRED, &g), BPTT_OK);
    tu_rng r = {99};
    const size_t nw = p->dout * p->ldw, nx = p->T * p->B * p->ldx;
    double *vw = tu_random(nw, 1, &r), *vx = tu_random(nx, 1, &r);
    double *W0 = malloc(nw * sizeof *W0), *x0 = malloc(nx * sizeof *x0);
    double dot = 0;
    for (size_t i = 0; i < nw; i++)
        dot += g.dW[i] * vw[i] * ((i % p->ldw) < p->m);
    for (size_t i = 0; i < nx; i++)
        dot += g.dx[i] * vx[i] * ((i % p->ldx) < p->din);
    for (size_t i = 0; i < nw; i++)
        W0[i] = p->W[i];
    for (size_t i = 0; i < nx; i++)
        x0[i] = p->x[i];
    const double h = TU_FD_STEP;
    for (size_t i = 0; i < nw; i++)
        p->W[i] = W0[i] + h * vw[i];
    for (size_t i = 0; i < nx; i++)
        p->x[i] = x0[i] + h * vx[i];
    double lp = tu_loss(p);
    for (size_t i = 0; i < nw; i++)
        p->W[i] = W0[i] - h * vw[i];
    for (size_t i = 0; i < nx; i++)
        p->x[i] = x0[i] - h * vx[i];
    double lm = tu_loss(p);
    double fd = (lp - lm) / (2 * h);
    ck_assert_msg(fabs(fd - dot) <= TOL_GRADCHECK * fabs(dot),
                  "directional: fd %.12g vs <g,V> %.12g", fd, dot);
    free(vw), free(vx), free(W0), free(x0);
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("central-differences");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, entrywise_small, 0, 3);
    tcase_add_loop_test(tc, entrywise_single_sequence, 0, 2);
    tcase_add_test(tc, directional_larger);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
