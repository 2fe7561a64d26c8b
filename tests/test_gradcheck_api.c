/*
 * The public gradient check (bptt_gradcheck_net, bptt_gradcheck_elman):
 * a correct gradient passes — every built-in activation and a custom one,
 * Network B with labels and with soft and regression targets — and a
 * custom activation with a wrong derivative is caught, with the place;
 * the parameters come back bitwise; traps.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static double cube(double z, void *u)
{
    (void)u;
    return z * z * z / 3 + z;
}
static double cube_df(double z, void *u)
{
    (void)u;
    return z * z + 1;
}
static double cube_df_wrong(double z, void *u) /* off by a factor at z > 0 */
{
    (void)u;
    return z > 0 ? 1.1 * (z * z + 1) : z * z + 1;
}

START_TEST(network_a_passes)
{
    enum { DIN = 3, DOUT = 7, T = 4, B = 2 };
    bptt_net *net = tu_mixed_net(DIN, DOUT); /* includes custom units */
    bptt_param_layout lay;
    ck_assert_int_eq(bptt_net_param_layout(net, &lay), BPTT_OK);
    tu_rng r = {3};
    double *p = tu_random(lay.count, 0.5, &r);
    double *x = tu_random(T * B * DIN, 1, &r);
    double *y0 = tu_random(B * DOUT, 0.5, &r);
    double *tg = tu_random(T * B * DOUT, 1, &r);
    double *keep = malloc(lay.count * sizeof *keep);
    memcpy(keep, p, lay.count * sizeof *keep);
    bptt_gradcheck_result res;
    ck_assert_int_eq(bptt_gradcheck_net(net, T, B, p, x, y0, tg, 0, &res),
                     BPTT_OK);
    ck_assert_double_le(res.max_relerr, TOL_GRADCHECK);
    ck_assert_ptr_nonnull(res.view);
    ck_assert_mem_eq(p, keep, lay.count * sizeof *p);
    ck_assert_int_eq(bptt_gradcheck_net(net, T, B, p, x, NULL, tg, 1e-6, &res),
                     BPTT_OK);
    ck_assert_double_le(res.max_relerr, TOL_GRADCHECK);
    free(p);
    free(x);
    free(y0);
    free(tg);
    free(keep);
    bptt_net_free(net);
}
END_TEST

START_TEST(wrong_derivative_is_caught)
{
    enum { DIN = 2, DOUT = 4, T = 3, B = 1 };
    for (int wrong = 0; wrong < 2; wrong++) {
        bptt_custom_activation c = {cube, wrong ? cube_df_wrong : cube_df,
                                    NULL};
        bptt_net *net;
        ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_CUSTOM,
                                                 &c, &net), BPTT_OK);
        bptt_param_layout lay;
        bptt_net_param_layout(net, &lay);
        tu_rng r = {9};
        double *p = tu_random(lay.count, 0.3, &r);
        double *x = tu_random(T * B * DIN, 1, &r);
        double *tg = tu_random(T * B * DOUT, 1, &r);
        bptt_gradcheck_result res;
        ck_assert_int_eq(bptt_gradcheck_net(net, T, B, p, x, NULL, tg, 0,
                                            &res), BPTT_OK);
        if (!wrong) {
            ck_assert_double_le(res.max_relerr, TOL_GRADCHECK);
        } else {
            ck_assert_double_ge(res.max_relerr, 1e-2);
            /* where: the index, its view and place agree */
            const int v = bptt_param_layout_find(&lay, res.view);
            ck_assert_int_ge(v, 0);
            ck_assert_uint_eq(res.index, lay.view[v].offset +
                                             res.row * lay.view[v].ld +
                                             res.col);
            ck_assert_double_ge(fabs(res.analytic - res.numeric),
                                1e-2 * fabs(res.numeric));
        }
        free(p);
        free(x);
        free(tg);
        bptt_net_free(net);
    }
}
END_TEST

START_TEST(network_b_passes)
{
    enum { DIN = 3, DH = 5, NOUT = 4, T = 3, B = 2 };
    bptt_net *net = tu_mixed_net(DIN, DH);
    for (int head = 0; head < 2; head++) {
        bptt_elman *el;
        ck_assert_int_eq(bptt_elman_create(net, NOUT, (bptt_head)head, &el),
                         BPTT_OK);
        bptt_param_layout lay;
        bptt_elman_param_layout(el, &lay);
        tu_rng r = {21};
        double *p = tu_random(lay.count, 0.5, &r);
        double *x = tu_random(T * B * DIN, 1, &r);
        double *h0 = tu_random(B * DH, 0.5, &r);
        double *L = tu_random(T * B * NOUT, 1, &r);
        for (int i = 0; i < T * B * NOUT; i++)
            L[i] = head == BPTT_HEAD_SOFTMAX ? fabs(L[i]) : L[i];
        int labels[T * B];
        for (int i = 0; i < T * B; i++)
            labels[i] = i == 2 ? BPTT_IGNORE_LABEL : i % NOUT;
        bptt_gradcheck_result res;
        ck_assert_int_eq(bptt_gradcheck_elman(el, T, B, p, x, h0, NULL, L, 0,
                                              &res), BPTT_OK);
        ck_assert_double_le(res.max_relerr, TOL_GRADCHECK);
        if (head == BPTT_HEAD_SOFTMAX) {
            ck_assert_int_eq(bptt_gradcheck_elman(el, T, B, p, x, NULL, labels,
                                                  NULL, 0, &res), BPTT_OK);
            ck_assert_double_le(res.max_relerr, TOL_GRADCHECK);
        } else { /* labels with the linear head: the forward's refusal */
            bptt_gradcheck_result keep = res;
            TU_REFUSED(bptt_gradcheck_elman(el, T, B, p, x, NULL, labels, NULL,
                                            0, &res), BPTT_EINVAL, NULL);
            ck_assert_mem_eq(&keep, &res, sizeof res);
        }
        free(p);
        free(x);
        free(h0);
        free(L);
        bptt_elman_free(el);
    }
    bptt_net_free(net);
}
END_TEST

START_TEST(gradcheck_traps)
{
    bptt_net *net;
    bptt_net_create_uniform(2, 3, BPTT_ACT_TANH, NULL, &net);
    bptt_elman *el;
    bptt_elman_create(net, 2, BPTT_HEAD_SOFTMAX, &el);
    double p[64] = {0}, x[16] = {0}, tg[32] = {0};
    int labels[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    bptt_gradcheck_result res = {0};
    tu_snap s = {0};
    tu_snap_add(&s, &res, sizeof res);
    tu_snap_add(&s, p, sizeof p);
    TU_REFUSED(bptt_gradcheck_net(NULL, 2, 1, p, x, NULL, tg, 0, &res),
               BPTT_ENULL, &s);
    TU_REFUSED(bptt_gradcheck_net(net, 2, 1, NULL, x, NULL, tg, 0, &res),
               BPTT_ENULL, &s);
    TU_REFUSED(bptt_gradcheck_net(net, 2, 1, p, NULL, NULL, tg, 0, &res),
               BPTT_ENULL, &s);
    TU_REFUSED(bptt_gradcheck_net(net, 2, 1, p, x, NULL, NULL, 0, &res),
               BPTT_ENULL, &s);
    TU_REFUSED(bptt_gradcheck_net(net, 2, 1, p, x, NULL, tg, 0, NULL),
               BPTT_ENULL, &s);
    TU_REFUSED(bptt_gradcheck_net(net, 0, 1, p, x, NULL, tg, 0, &res),
               BPTT_ESIZE, &s);
    TU_REFUSED(bptt_gradcheck_net(net, 2, 0, p, x, NULL, tg, 0, &res),
               BPTT_ESIZE, &s);
    TU_REFUSED(bptt_gradcheck_net(net, 2, 1, p, x, NULL, tg, -1, &res),
               BPTT_EINVAL, &s);
    TU_REFUSED(bptt_gradcheck_net(net, 2, 1, p, x, NULL, tg, NAN, &res),
               BPTT_EINVAL, &s);
    TU_REFUSED(bptt_gradcheck_elman(NULL, 2, 1, p, x, NULL, labels, NULL, 0,
                                    &res), BPTT_ENULL, &s);
    TU_REFUSED(bptt_gradcheck_elman(el, 2, 1, p, x, NULL, NULL, NULL, 0, &res),
               BPTT_ENULL, &s);
    TU_REFUSED(bptt_gradcheck_elman(el, 2, 1, p, x, NULL, labels, tg, 0, &res),
               BPTT_EINVAL, &s);
    labels[1] = 5;
    TU_REFUSED(bptt_gradcheck_elman(el, 2, 1, p, x, NULL, labels, NULL, 0,
                                    &res), BPTT_EINVAL, &s);
    /* a non-finite parameter gives a non-finite loss */
    p[0] = NAN;
    tu_snap_retake(&s);
    TU_REFUSED(bptt_gradcheck_net(net, 2, 1, p, x, NULL, tg, 0, &res),
               BPTT_ENONFINITE, &s);
    tu_snap_free(&s);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gradcheck_api");
    TCase *tc = tcase_create("gradcheck_api");
    tcase_add_test(tc, network_a_passes);
    tcase_add_test(tc, wrong_derivative_is_caught);
    tcase_add_test(tc, network_b_passes);
    tcase_add_test(tc, gradcheck_traps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
