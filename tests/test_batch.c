/*
 * Batch and threading tests: a batch of B sequences gives the sum of the B
 * single-sequence gradients; any backward may follow any forward; dW = NULL
 * leaves the other outputs as they are; 1 and 2 BLAS threads agree, and
 * repeated calls at a fixed thread count are bitwise identical.
 */
#include <cblas.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The single sequence b of a batched problem, as a problem of its own. */
static tu_problem *slice(const tu_problem *p, size_t b)
{
    tu_problem *q = tu_problem_new(tu_mixed_net(p->din, p->dout), p->T, 1,
                                   p->pad, (p->b ? TU_BIAS : 0) |
                                   (p->y0 ? TU_Y0 : 0) | (p->mask ? TU_MASK : 0), 1);
    memcpy(q->W, p->W, p->dout * p->ldw * sizeof(double));
    if (p->b)
        memcpy(q->b, p->b, p->dout * sizeof(double));
    for (size_t t = 0; t < p->T; t++) {
        const size_t k = t * p->B + b;
        memcpy(q->x + t * q->ldx, p->x + k * p->ldx, p->din * sizeof(double));
        memcpy(q->target + t * q->ldy, p->target + k * p->ldy,
               p->dout * sizeof(double));
        if (p->mask)
            q->mask[t] = p->mask[k];
    }
    if (p->y0)
        memcpy(q->y0, p->y0 + b * p->ldy0, p->dout * sizeof(double));
    return q;
}

START_TEST(batch_is_sum_of_sequences)
{
    const bptt_algo algo = (bptt_algo)(BPTT_ALGO_NAIVE + _i);
    tu_problem *p = tu_problem_new(tu_mixed_net(4, 9), 8, 5, 1,
                                   TU_BIAS | TU_Y0 | TU_MASK, 91);
    tu_grads all = {0};
    ck_assert_int_eq(tu_gradients(p, algo, &all), BPTT_OK);
    double *dW = calloc(p->dout * p->ldw, sizeof(double));
    double *db = calloc(p->dout, sizeof(double));
    for (size_t b = 0; b < p->B; b++) {
        tu_problem *q = slice(p, b);
        tu_grads one = {0};
        ck_assert_int_eq(tu_gradients(q, algo, &one), BPTT_OK);
        for (size_t i = 0; i < p->dout * p->ldw; i++)
            dW[i] += one.dW[i];
        for (size_t i = 0; i < p->dout; i++)
            db[i] += one.db[i];
        /* per-sequence blocks are the sequence's own */
        for (size_t t = 0; t < p->T; t++)
            ck_assert(tu_relerr(1, p->din, all.dx + (t * p->B + b) * p->ldx,
                                p->ldx, one.dx + t * q->ldx, q->ldx) <= TOL_REFERENCE);
        ck_assert(tu_relerr(1, p->dout, all.dy0 + b * p->ldy0, p->ldy0, one.dy0,
                            q->ldy0) <= TOL_REFERENCE);
        tu_grads_free(&one);
        tu_problem_free(q);
    }
    ck_assert(tu_relerr(p->dout, p->m, all.dW, p->ldw, dW, p->ldw) <= TOL_REFERENCE);
    ck_assert(tu_relerr(1, p->dout, all.db, p->dout, db, p->dout) <= TOL_REFERENCE);
    free(dW), free(db);
    tu_grads_free(&all);
    tu_problem_free(p);
}
END_TEST

/* Gradients of every (forward algo, backward algo) pair, dW NULL or not. */
static void run_pair(const tu_problem *p, bptt_workspace *ws, bptt_algo fa,
                     bptt_algo ba, int with_dW, tu_grads *g)
{
    const size_t TB = p->T * p->B;
    double *y = calloc(TB * p->ldy, sizeof(double));
    double *dy = calloc(TB * p->ldy, sizeof(double));
    g->dW = calloc(p->dout * p->ldw, sizeof(double));
    g->dx = calloc(TB * p->ldx, sizeof(double));
    g->dy0 = calloc(p->B * p->ldy0, sizeof(double));
    g->db = calloc(p->dout, sizeof(double));
    ck_assert_int_eq(bptt_forward(p->net, p->T, p->B, p->W, p->ldw, p->b, p->x,
                                  p->ldx, p->y0, p->ldy0, y, p->ldy, fa, ws), BPTT_OK);
    ck_assert_int_eq(bptt_loss_squared(p->T, p->B, p->dout, y, p->ldy,
                                       p->target, p->ldy, NULL, &g->loss, dy,
                                       p->ldy), BPTT_OK);
    ck_assert_int_eq(bptt_backward(p->net, p->T, p->B, p->W, p->ldw, dy, p->ldy,
                                   0.0, with_dW ? g->dW : NULL, p->ldw, g->db,
                                   g->dx, p->ldx, g->dy0, p->ldy0, ba, ws), BPTT_OK);
    free(y), free(dy);
}

START_TEST(any_backward_after_any_forward)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(6, 5), 7, 3, 2, TU_BIAS | TU_Y0, 93);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, p->T, p->B, &ws), BPTT_OK);
    tu_grads ref = {0};
    run_pair(p, ws, BPTT_ALGO_NAIVE, BPTT_ALGO_NAIVE, 1, &ref);
    for (int fa = BPTT_ALGO_NAIVE; fa < BPTT_NALGO; fa++)
        for (int ba = BPTT_ALGO_NAIVE; ba < BPTT_NALGO; ba++)
            for (int with_dW = 0; with_dW < 2; with_dW++) {
                tu_grads g = {0};
                run_pair(p, ws, fa, ba, with_dW, &g);
                const size_t TB = p->T * p->B;
                ck_assert(tu_relerr(TB, p->din, g.dx, p->ldx, ref.dx, p->ldx) <= TOL_REFERENCE);
                ck_assert(tu_relerr(p->B, p->dout, g.dy0, p->ldy0, ref.dy0, p->ldy0) <= TOL_REFERENCE);
                ck_assert(tu_relerr(1, p->dout, g.db, p->dout, ref.db, p->dout) <= TOL_REFERENCE);
                if (with_dW)
                    ck_assert(tu_relerr(p->dout, p->m, g.dW, p->ldw, ref.dW, p->ldw) <= TOL_REFERENCE);
                else
                    for (size_t i = 0; i < p->dout * p->ldw; i++)
                        ck_assert(g.dW[i] == 0); /* untouched calloc'd array */
                tu_grads_free(&g);
            }
    tu_grads_free(&ref);
    bptt_workspace_free(ws);
    tu_problem_free(p);
}
END_TEST

/* Large enough for OpenBLAS to split GEMM/GEMV work between threads. */
START_TEST(threads_agree_and_repeat_bitwise)
{
    const bptt_algo algo = (bptt_algo)(BPTT_ALGO_GEMV_GER + _i);
    tu_problem *p = tu_problem_new(tu_mixed_net(96, 160), 12, 8, 0,
                                   TU_BIAS | TU_Y0, 95);
    tu_grads one = {0}, two = {0}, again = {0};
    openblas_set_num_threads(1);
    ck_assert_int_eq(tu_gradients(p, algo, &one), BPTT_OK);
    ck_assert_int_eq(tu_gradients(p, algo, &again), BPTT_OK);
    ck_assert(memcmp(one.dW, again.dW, p->dout * p->ldw * sizeof(double)) == 0);
    ck_assert(memcmp(one.dx, again.dx, p->T * p->B * p->ldx * sizeof(double)) == 0);
    openblas_set_num_threads(2);
    ck_assert_int_eq(tu_gradients(p, algo, &two), BPTT_OK);
    /* bptt never changes the BLAS's process-wide thread count */
    ck_assert_int_eq(openblas_get_num_threads(), 2);
    tu_grads_free(&again);
    ck_assert_int_eq(tu_gradients(p, algo, &again), BPTT_OK);
    ck_assert(memcmp(two.dW, again.dW, p->dout * p->ldw * sizeof(double)) == 0);
    ck_assert(tu_relerr(p->dout, p->m, two.dW, p->ldw, one.dW, p->ldw) <= TOL_REFERENCE);
    ck_assert(tu_relerr(p->T * p->B, p->din, two.dx, p->ldx, one.dx, p->ldx) <= TOL_REFERENCE);
    openblas_set_num_threads(1);
    tu_grads_free(&one), tu_grads_free(&two), tu_grads_free(&again);
    tu_problem_free(p);
}
END_TEST

/* Small shapes: results agree with a 1-thread BLAS run, and the caller's
 * thread count is what it set. */
START_TEST(small_shapes_leave_blas_threads)
{
    const bptt_algo algo = (bptt_algo)(BPTT_ALGO_GEMV_GER + _i);
    tu_problem *p = tu_problem_new(tu_mixed_net(20, 24), 30, 2, 1,
                                   TU_BIAS | TU_Y0, 97);
    tu_grads one = {0}, two = {0};
    openblas_set_num_threads(1);
    ck_assert_int_eq(tu_gradients(p, algo, &one), BPTT_OK);
    openblas_set_num_threads(2);
    ck_assert_int_eq(tu_gradients(p, algo, &two), BPTT_OK);
    ck_assert_int_eq(openblas_get_num_threads(), 2);
    ck_assert(tu_relerr(p->T * p->B, p->din, two.dx, p->ldx, one.dx, p->ldx) <= TOL_REFERENCE);
    ck_assert(tu_relerr(p->dout, p->m, two.dW, p->ldw, one.dW, p->ldw) <= TOL_REFERENCE);
    openblas_set_num_threads(1);
    tu_grads_free(&one), tu_grads_free(&two);
    tu_problem_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, batch_is_sum_of_sequences, 0, BPTT_NALGO - 1);
    tcase_add_test(tc, any_backward_after_any_forward);
    tcase_add_loop_test(tc, threads_agree_and_repeat_bitwise, 0,
                        BPTT_NALGO - BPTT_ALGO_GEMV_GER);
    tcase_add_loop_test(tc, small_shapes_leave_blas_threads, 0,
                        BPTT_NALGO - BPTT_ALGO_GEMV_GER);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
