/*
 * Gradient checks: both algorithms against central differences of the
 * loss, (L(θ + h) − L(θ − h)) / 2h with h = TU_FD_STEP·max(1, |θ|), on every
 * block — entry by entry on small problems, and along one random direction
 * on a larger one (KANN's check: two extra forward passes in all), both
 * by testutil's finite-difference helper.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "testutil.h"

/* dL/dθ of every block against tu_fd_block's central differences. */
static void check_problem(tu_problem *p, bptt_algo algo)
{
    tu_grads g = {0};
    ck_assert_int_eq(tu_gradients(p, algo, &g), BPTT_OK);
    const tu_loss_fn L = tu_loss_fn_problem;
    const size_t TB = p->T * p->B;
    double e = tu_fd_block(L, p, p->W, p->dout, p->m, p->ldw, g.dW, p->ldw);
    ck_assert_msg(e <= TOL_GRADCHECK, "%s dW: relerr %g", bptt_algo_name(algo), e);
    if (p->b) {
        e = tu_fd_block(L, p, p->b, 1, p->dout, p->dout, g.db, p->dout);
        ck_assert_msg(e <= TOL_GRADCHECK, "db: relerr %g", e);
    }
    e = tu_fd_block(L, p, p->x, TB, p->din, p->ldx, g.dx, p->ldx);
    ck_assert_msg(e <= TOL_GRADCHECK, "dx: relerr %g", e);
    if (p->y0) {
        e = tu_fd_block(L, p, p->y0, p->B, p->dout, p->ldy0, g.dy0, p->ldy0);
        ck_assert_msg(e <= TOL_GRADCHECK, "dy0: relerr %g", e);
    }
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
    const tu_fd_dir dir[] = {{p->W, g.dW, vw, p->dout, p->m, p->ldw},
                             {p->x, g.dx, vx, p->T * p->B, p->din, p->ldx}};
    double fd, dot;
    const double e = tu_fd_direction(tu_loss_fn_problem, p, dir, 2, &fd, &dot);
    ck_assert_msg(e <= TOL_GRADCHECK, "directional: fd %.12g vs <g,V> %.12g",
                  fd, dot);
    free(vw), free(vx);
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
