/*
 * Token inputs: the one-hot rows of ids, padding untouched, both
 * precisions; the forward of the rows equals the forward of a dense x
 * built here; an id out of range refused with its position, nothing
 * written; traps.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

START_TEST(onehot_rows)
{
    enum { N = 5, V = 4, LD = 6 };
    const int32_t tok[N] = {0, 3, 3, 1, 2};
    double x[N * LD];
    float xf[N * LD];
    for (int i = 0; i < N * LD; i++)
        x[i] = xf[i] = 7;
    ck_assert_int_eq(bptt_tokens_onehot(N, V, tok, x, LD), BPTT_OK);
    ck_assert_int_eq(bpttf_tokens_onehot(N, V, tok, xf, LD), BPTT_OK);
    for (int k = 0; k < N; k++)
        for (int j = 0; j < LD; j++) {
            const double want = j >= V ? 7 : j == tok[k] ? 1 : 0;
            ck_assert(x[k * LD + j] == want);
            ck_assert(xf[k * LD + j] == (float)want);
        }
}
END_TEST

START_TEST(out_of_range_is_refused)
{
    enum { N = 6, V = 3 };
    int32_t tok[N] = {0, 1, 2, 0, 1, 2};
    double x[N * V] = {0};
    tu_snap s = {0};
    tu_snap_add(&s, x, sizeof x);
    tok[4] = 3;
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, x, V), BPTT_EINVAL, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "tokens[4] = 3"));
    tok[4] = -1;
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, x, V), BPTT_EINVAL, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "tokens[4] = -1"));
    tok[4] = INT32_MIN;
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, x, V), BPTT_EINVAL, &s);
    tok[4] = 1;
    TU_REFUSED(bptt_tokens_onehot(N, V, NULL, x, V), BPTT_ENULL, &s);
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, NULL, V), BPTT_ENULL, &s);
    TU_REFUSED(bptt_tokens_onehot(0, V, tok, x, V), BPTT_ESIZE, &s);
    TU_REFUSED(bptt_tokens_onehot(N, 0, tok, x, V), BPTT_ESIZE, &s);
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, x, V - 1), BPTT_ELD, &s);
    TU_REFUSED(bptt_tokens_onehot(N, V, tok, x, SIZE_MAX), BPTT_EOVERFLOW, &s);
    float xf[N * V] = {0};
    TU_REFUSED_REGION(bpttf_tokens_onehot(N, 2, tok, xf, V), BPTT_EINVAL, xf,
                      sizeof xf);
    tu_snap_free(&s);
}
END_TEST

/* The rows drive Network B exactly as a one-hot x written by hand. */
START_TEST(forward_of_the_rows)
{
    enum { V = 5, DH = 4, T = 3, B = 2 };
    bptt_net *net;
    bptt_elman *el;
    bptt_net_create_uniform(V, DH, BPTT_ACT_TANH, NULL, &net);
    bptt_elman_create(net, V, BPTT_HEAD_SOFTMAX, &el);
    bptt_param_layout lay;
    bptt_elman_param_layout(el, &lay);
    tu_rng r = {4};
    double *p = tu_random(lay.count, 0.5, &r);
    const int32_t tok[T * B] = {1, 4, 0, 0, 3, 2};
    const int labels[T * B] = {4, 0, 0, 3, 2, 1};
    double x[T * B * V], xh[T * B * V] = {0};
    for (int k = 0; k < T * B; k++)
        xh[k * V + tok[k]] = 1;
    ck_assert_int_eq(bptt_tokens_onehot(T * B, V, tok, x, V), BPTT_OK);
    bptt_elman_workspace *ws;
    bptt_elman_workspace_alloc(el, T, B, &ws);
    double E1, E2;
    const bptt_param_view *v = lay.view;
    for (int pass = 0; pass < 2; pass++)
        ck_assert_int_eq(
            bptt_elman_forward(el, T, B, p + v[0].offset, v[0].ld,
                               p + v[1].offset, p + v[2].offset, v[2].ld,
                               p + v[3].offset, pass ? xh : x, V, NULL, DH,
                               labels, NULL, 0, pass ? &E2 : &E1, NULL, 0,
                               NULL, 0, BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert(E1 == E2);
    bptt_elman_workspace_free(ws);
    free(p);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tokens");
    TCase *tc = tcase_create("tokens");
    tcase_add_test(tc, onehot_rows);
    tcase_add_test(tc, out_of_range_is_refused);
    tcase_add_test(tc, forward_of_the_rows);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
