/*
 * The gradient-ready hook (bptt/hook.h): with any panel size, including
 * one changed by the hook between panels, the backward's results are
 * bitwise those without the hook (identity); ready reports every row of dW
 * once, in increasing panels, each final when reported (identity: the rows
 * equal the hookless dW at that moment); the gemv-ger algorithm reports
 * once; Network B reports dWo first, final; a hook without ready is
 * refused (trap).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { DIN = 3, DOUT = 13, M = DIN + DOUT, T = 7, B = 4, NOUT = 5 };

typedef struct record {
    bptt_grad_hook hook;
    const double *dW, *want; /* the gradient being written, the hookless */
    const double *dWo, *wantWo;
    size_t next;             /* the row the next report must start at */
    int calls, wo_calls, final, shrink;
} record;

static void ready(void *user, bptt_grad_part part, size_t r0, size_t r1)
{
    record *r = user;
    if (part == BPTT_GRAD_WO) {
        r->wo_calls++;
        r->final &= r0 == 0 && r1 == NOUT && r->calls == 0 &&
                    !memcmp(r->dWo, r->wantWo, sizeof(double) * NOUT * DOUT);
        return;
    }
    r->calls++;
    r->final &= r0 == r->next && r1 > r0 && r1 <= DOUT &&
                !memcmp(r->dW + r0 * M, r->want + r0 * M,
                        sizeof(double) * (r1 - r0) * M);
    r->next = r1;
    if (r->shrink && r->hook.panel_rows > 1) /* panels that shrink */
        r->hook.panel_rows--;
}

static double x[T * B * DIN], W[DOUT * M], y[T * B * DOUT], dy[T * B * DOUT];

static void fill(void)
{
    tu_rng rng = {7};
    for (size_t i = 0; i < sizeof x / sizeof *x; i++)
        x[i] = tu_uniform(&rng);
    for (size_t i = 0; i < DOUT * M; i++)
        W[i] = 0.4 * tu_uniform(&rng);
    for (size_t i = 0; i < T * B * DOUT; i++)
        dy[i] = tu_uniform(&rng);
}

START_TEST(panels_bitwise_and_final)
{
    /* _i: panel rows 0 (all), 1, 4, 13, 20, and 5 shrinking */
    static const size_t rows[] = {0, 1, 4, 13, 20, 5};
    const bptt_algo algo = _i < 6 ? BPTT_ALGO_DEFERRED : BPTT_ALGO_GEMV_GER;
    fill();
    bptt_net *net = NULL;
    bptt_workspace *ws = NULL;
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL,
                                             &net), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_alloc(net, T, B, &ws), BPTT_OK);
    double want[DOUT * M], db0[DOUT], dW[DOUT * M], db[DOUT];
    ck_assert_int_eq(bptt_forward(net, T, B, W, M, NULL, x, DIN, NULL, 0, y,
                                  DOUT, algo, ws), BPTT_OK);
    ck_assert_int_eq(bptt_backward(net, T, B, W, M, dy, DOUT, 0, want, M, db0,
                                   NULL, 0, NULL, 0, algo, ws), BPTT_OK);
    record r = {.hook = {ready, NULL, rows[_i % 6]}, .dW = dW, .want = want,
                .final = 1, .shrink = _i == 5};
    r.hook.user = &r;
    ck_assert_int_eq(bptt_workspace_set_grad_hook(ws, &r.hook), BPTT_OK);
    ck_assert_int_eq(bptt_backward(net, T, B, W, M, dy, DOUT, 0, dW, M, db,
                                   NULL, 0, NULL, 0, algo, ws), BPTT_OK);
    ck_assert_msg(!memcmp(dW, want, sizeof dW) && !memcmp(db, db0, sizeof db),
                  "not bitwise the hookless gradient");
    ck_assert_msg(r.final, "a report out of order or not final");
    ck_assert_uint_eq(r.next, DOUT);
    if (algo == BPTT_ALGO_GEMV_GER || rows[_i] == 0 || rows[_i] >= DOUT)
        ck_assert_int_eq(r.calls, 1);
    else if (_i != 5)
        ck_assert_int_eq(r.calls, (int)((DOUT + rows[_i] - 1) / rows[_i]));
    /* removed: no more reports */
    ck_assert_int_eq(bptt_workspace_set_grad_hook(ws, NULL), BPTT_OK);
    int calls = r.calls;
    ck_assert_int_eq(bptt_backward(net, T, B, W, M, dy, DOUT, 0, dW, M, db,
                                   NULL, 0, NULL, 0, algo, ws), BPTT_OK);
    ck_assert_int_eq(r.calls, calls);
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

START_TEST(elman_reports_wo_first)
{
    fill();
    bptt_net *net = NULL;
    bptt_elman *el = NULL;
    bptt_elman_workspace *ws = NULL;
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL,
                                             &net), BPTT_OK);
    ck_assert_int_eq(bptt_elman_create(net, NOUT, BPTT_HEAD_SOFTMAX, &el),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_workspace_alloc(el, T, B, &ws), BPTT_OK);
    double Wo[NOUT * DOUT];
    int labels[T * B];
    for (size_t i = 0; i < NOUT * DOUT; i++)
        Wo[i] = 0.3 * W[i];
    for (size_t k = 0; k < T * B; k++)
        labels[k] = (int)(k % NOUT);
    double E, want[DOUT * M], wantWo[NOUT * DOUT], dW[DOUT * M],
        dWo[NOUT * DOUT];
    ck_assert_int_eq(bptt_elman_forward(el, T, B, W, M, NULL, Wo, DOUT, NULL,
                                        x, DIN, NULL, 0, labels, NULL, 0, &E,
                                        NULL, 0, NULL, 0, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_backward(el, T, B, W, M, Wo, DOUT, labels,
                                         NULL, 0, 0, want, M, NULL, wantWo,
                                         DOUT, NULL, NULL, 0, NULL, 0,
                                         BPTT_ALGO_AUTO, ws), BPTT_OK);
    record r = {.hook = {ready, NULL, 4}, .dW = dW, .want = want, .dWo = dWo,
                .wantWo = wantWo, .final = 1};
    r.hook.user = &r;
    ck_assert_int_eq(bptt_elman_workspace_set_grad_hook(ws, &r.hook), BPTT_OK);
    ck_assert_int_eq(bptt_elman_backward(el, T, B, W, M, Wo, DOUT, labels,
                                         NULL, 0, 0, dW, M, NULL, dWo, DOUT,
                                         NULL, NULL, 0, NULL, 0,
                                         BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_msg(r.final, "a report out of order or not final");
    ck_assert_int_eq(r.wo_calls, 1);
    ck_assert_int_eq(r.calls, 4);
    ck_assert_msg(!memcmp(dW, want, sizeof dW) && !memcmp(dWo, wantWo, sizeof dWo),
                  "not bitwise the hookless gradient");
    bptt_elman_workspace_free(ws);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

START_TEST(trap_hook_without_ready)
{
    bptt_net *net = NULL;
    bptt_workspace *ws = NULL;
    bpttf_workspace *wf = NULL;
    bptt_elman *el = NULL;
    bptt_elman_workspace *ew = NULL;
    bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL, &net);
    bptt_workspace_alloc(net, T, B, &ws);
    bpttf_workspace_alloc(net, T, B, &wf);
    bptt_elman_create(net, NOUT, BPTT_HEAD_SOFTMAX, &el);
    bptt_elman_workspace_alloc(el, T, B, &ew);
    const bptt_grad_hook bad = {NULL, NULL, 1};
    ck_assert_int_eq(bptt_workspace_set_grad_hook(ws, &bad), BPTT_EINVAL);
    ck_assert_int_eq(bpttf_workspace_set_grad_hook(wf, &bad), BPTT_EINVAL);
    ck_assert_int_eq(bptt_elman_workspace_set_grad_hook(ew, &bad),
                     BPTT_EINVAL);
    ck_assert_int_eq(bptt_workspace_set_grad_hook(NULL, NULL), BPTT_ENULL);
    ck_assert_int_eq(bpttf_workspace_set_grad_hook(NULL, NULL), BPTT_ENULL);
    ck_assert_int_eq(bptt_elman_workspace_set_grad_hook(NULL, NULL),
                     BPTT_ENULL);
    bptt_elman_workspace_free(ew);
    bptt_elman_free(el);
    bpttf_workspace_free(wf);
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hook");
    TCase *tc = tcase_create("hook");
    tcase_add_loop_test(tc, panels_bitwise_and_final, 0, 7);
    tcase_add_test(tc, elman_reports_wo_first);
    tcase_add_test(tc, trap_hook_without_ready);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
