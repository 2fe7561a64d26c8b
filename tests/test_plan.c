/*
 * Plan tests: every plan call gives bitwise the results of the expert call
 * it forwards to, with the same algorithm (reference: the plan adds no
 * arithmetic); every refused plan creation and every call beyond the
 * plan's Tmax or Bmax returns its status, names the argument and writes
 * nothing (trap).
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { DIN = 3, DOUT = 5, T = 6, NOUT = 4 };

/* n doubles: a copy of a, or uniform values when a is NULL (seeded). */
static double *dup_or_random(const double *a, size_t n, unsigned long long s)
{
    tu_rng r = {s};
    double *d = tu_random(n, 1.0, &r);
    if (a)
        memcpy(d, a, n * sizeof *d);
    return d;
}

#define SAME(a, b, n)                                                          \
    ck_assert_msg(memcmp((a), (b), (n) * sizeof *(a)) == 0, "%s differs", #a)

/* The layout of a problem's padded arrays (the gradients shaped alike). */
static bptt_layout layout_of(const tu_problem *p)
{
    return (bptt_layout){p->ldw, p->ldx, p->ldy0, p->ldy, p->ldy,
                         p->ldy, p->ldw, p->ldx, p->ldy0};
}

/* ------------------------------------------------------------------------ */
/* Network A, double: plan against bptt_forward/_loss_squared/_backward      */
/* ------------------------------------------------------------------------ */

/* One case: bias and y0 (flags), B, padded layout (pad > 0) or dense
 * (pad 0, NULL layout), the optional gradients wanted or not, beta. */
static void check_network(int flags, size_t B, size_t pad, int opt,
                          double beta, bptt_algo algo)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, pad, flags,
                                   17 + B + pad);
    const size_t TB = T * B, nW = DOUT * p->ldw, nx = TB * p->ldx,
                 ny = TB * p->ldy, ny0 = B * p->ldy0;
    /* Both sides start from the same garbage, which beta = 1 reads. */
    double *y[2], *dy[2], *dW[2], *db[2], *dx[2], *dy0[2], loss[2];
    for (int s = 0; s < 2; s++) {
        y[s] = dup_or_random(s ? y[0] : NULL, ny, 1);
        dy[s] = dup_or_random(s ? dy[0] : NULL, ny, 2);
        dW[s] = dup_or_random(s ? dW[0] : NULL, nW, 3);
        db[s] = dup_or_random(s ? db[0] : NULL, DOUT, 4);
        dx[s] = dup_or_random(s ? dx[0] : NULL, nx, 5);
        dy0[s] = dup_or_random(s ? dy0[0] : NULL, ny0, 6);
    }

    /* expert */
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_forward(p->net, T, B, p->W, p->ldw, p->b, p->x,
                                  p->ldx, p->y0, p->ldy0, y[0], p->ldy, algo,
                                  ws), BPTT_OK);
    ck_assert_int_eq(bptt_loss_squared(T, B, DOUT, y[0], p->ldy, p->target,
                                       p->ldy, p->mask, &loss[0], dy[0],
                                       p->ldy), BPTT_OK);
    ck_assert_int_eq(bptt_backward(p->net, T, B, p->W, p->ldw, dy[0], p->ldy,
                                   beta, dW[0], p->ldw, opt ? db[0] : NULL,
                                   opt ? dx[0] : NULL, p->ldx,
                                   opt ? dy0[0] : NULL, p->ldy0, algo, ws),
                     BPTT_OK);
    bptt_workspace_free(ws);

    /* plan, made larger than the call (Tmax, Bmax need not be met) */
    const bptt_layout lay = layout_of(p);
    bptt_plan *plan;
    ck_assert_int_eq(bptt_plan_create(p->net, T + 2, B + 1, pad ? &lay : NULL,
                                      algo, &plan), BPTT_OK);
    const bptt_params prm = {p->W, p->b};
    const bptt_targets tg = {p->target, p->mask};
    const bptt_grads g = {dW[1], opt ? db[1] : NULL, opt ? dx[1] : NULL,
                          opt ? dy0[1] : NULL};
    ck_assert_int_eq(bptt_plan_forward(plan, T, B, &prm, p->x, p->y0, y[1]),
                     BPTT_OK);
    ck_assert_int_eq(bptt_plan_loss(plan, T, B, y[1], &tg, &loss[1], dy[1]),
                     BPTT_OK);
    ck_assert_int_eq(bptt_plan_backward(plan, T, B, &prm, dy[1], beta, &g),
                     BPTT_OK);
    bptt_plan_destroy(plan);

    SAME(y[1], y[0], ny);
    SAME(&loss[1], &loss[0], 1);
    SAME(dy[1], dy[0], ny);
    SAME(dW[1], dW[0], nW);
    SAME(db[1], db[0], DOUT);
    SAME(dx[1], dx[0], nx);
    SAME(dy0[1], dy0[0], ny0);
    for (int s = 0; s < 2; s++) {
        free(y[s]);
        free(dy[s]);
        free(dW[s]);
        free(db[s]);
        free(dx[s]);
        free(dy0[s]);
    }
    tu_problem_free(p);
}

/* _i runs over the three algorithms. */
START_TEST(network_plan_equals_expert)
{
    const bptt_algo algo = (bptt_algo)(BPTT_ALGO_NAIVE + _i);
    check_network(0, 1, 0, 0, 0.0, algo);                   /* bare, dense */
    check_network(TU_BIAS | TU_Y0, 1, 0, 1, 0.0, algo);     /* b, dx, dy0 */
    check_network(TU_BIAS | TU_Y0 | TU_MASK, 3, 0, 1, 1.0, algo); /* B > 1 */
    check_network(TU_BIAS | TU_Y0, 3, 2, 1, 0.0, algo);     /* padded */
    check_network(TU_Y0 | TU_MASK, 2, 1, 0, 1.0, algo);     /* padded, beta 1 */
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Network A, float                                                          */
/* ------------------------------------------------------------------------ */

START_TEST(network_plan_equals_expert_float)
{
    const bptt_algo algo = (bptt_algo)(BPTT_ALGO_NAIVE + _i);
    const size_t B = 2;
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, 1,
                                   TU_BIAS | TU_Y0 | TU_MASK, 5);
    const size_t TB = T * B, nW = DOUT * p->ldw, nx = TB * p->ldx,
                 ny = TB * p->ldy, ny0 = B * p->ldy0;
    float *W = tu_to_float(p->W, nW), *b = tu_to_float(p->b, DOUT);
    float *x = tu_to_float(p->x, nx), *y0 = tu_to_float(p->y0, ny0);
    float *tgt = tu_to_float(p->target, ny);
    float *y[2], *dy[2], *dW[2], *db[2], *dx[2], *dy0[2];
    double loss[2];
    for (int s = 0; s < 2; s++) {
        y[s] = calloc(ny, sizeof(float));
        dy[s] = calloc(ny, sizeof(float));
        dW[s] = calloc(nW, sizeof(float));
        db[s] = calloc(DOUT, sizeof(float));
        dx[s] = calloc(nx, sizeof(float));
        dy0[s] = calloc(ny0, sizeof(float));
    }
    bpttf_workspace *ws;
    ck_assert_int_eq(bpttf_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bpttf_forward(p->net, T, B, W, p->ldw, b, x, p->ldx, y0,
                                   p->ldy0, y[0], p->ldy, algo, ws), BPTT_OK);
    ck_assert_int_eq(bpttf_loss_squared(T, B, DOUT, y[0], p->ldy, tgt, p->ldy,
                                        p->mask, &loss[0], dy[0], p->ldy),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_backward(p->net, T, B, W, p->ldw, dy[0], p->ldy,
                                    0.0f, dW[0], p->ldw, db[0], dx[0], p->ldx,
                                    dy0[0], p->ldy0, algo, ws), BPTT_OK);
    bpttf_workspace_free(ws);

    const bptt_layout lay = layout_of(p);
    bpttf_plan *plan;
    ck_assert_int_eq(bpttf_plan_create(p->net, T, B, &lay, algo, &plan),
                     BPTT_OK);
    const bpttf_params prm = {W, b};
    const bpttf_targets tg = {tgt, p->mask};
    const bpttf_grads g = {dW[1], db[1], dx[1], dy0[1]};
    ck_assert_int_eq(bpttf_plan_forward(plan, T, B, &prm, x, y0, y[1]),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_plan_loss(plan, T, B, y[1], &tg, &loss[1], dy[1]),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_plan_backward(plan, T, B, &prm, dy[1], 0.0f, &g),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_plan_cell(plan), BPTT_CELL_VANILLA);
    ck_assert_uint_eq(bpttf_plan_tmax(plan), T);
    ck_assert_ptr_nonnull(bpttf_plan_workspace(plan));
    bpttf_plan_destroy(plan);

    SAME(y[1], y[0], ny);
    SAME(&loss[1], &loss[0], 1);
    SAME(dW[1], dW[0], nW);
    SAME(db[1], db[0], DOUT);
    SAME(dx[1], dx[0], nx);
    SAME(dy0[1], dy0[0], ny0);
    for (int s = 0; s < 2; s++) {
        free(y[s]);
        free(dy[s]);
        free(dW[s]);
        free(db[s]);
        free(dx[s]);
        free(dy0[s]);
    }
    free(W);
    free(b);
    free(x);
    free(y0);
    free(tgt);
    tu_problem_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Network B                                                                 */
/* ------------------------------------------------------------------------ */

/* One Elman case with the given head, padded by pad (0: dense, NULL
 * layout), B sequences; the softmax head with labels, the linear with L. */
static void check_elman(bptt_head head, size_t B, size_t pad, bptt_algo algo)
{
    tu_rng r = {99 + pad};
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(net, NOUT, head, &el), BPTT_OK);
    const size_t TB = T * B, m = DIN + DOUT;
    const bptt_elman_layout lay = {m + pad,    DOUT + pad, DIN + pad,
                                   DOUT + pad, NOUT + pad, DOUT + pad,
                                   NOUT + pad, m + pad,    DOUT + pad,
                                   DIN + pad,  DOUT + pad};
    const size_t nW = DOUT * lay.ldw, nWo = NOUT * lay.ldwo,
                 nx = TB * lay.ldx, nh0 = B * lay.ldh0, nL = TB * lay.ldl,
                 nh = TB * lay.ldh, ny = TB * lay.ldy;
    double *W = tu_random(nW, 0.5, &r), *bh = tu_random(DOUT, 0.3, &r);
    double *Wo = tu_random(nWo, 0.5, &r), *bo = tu_random(NOUT, 0.3, &r);
    double *x = tu_random(nx, 1.0, &r), *h0 = tu_random(nh0, 0.5, &r);
    double *L = NULL;
    int *labels = NULL;
    if (head == BPTT_HEAD_LINEAR)
        L = tu_random(nL, 1.0, &r);
    else {
        labels = malloc(TB * sizeof *labels);
        for (size_t k = 0; k < TB; k++)
            labels[k] = k % 4 == 3 ? BPTT_IGNORE_LABEL : (int)(k % NOUT);
    }
    double *h[2], *y[2], *dW[2], *dbh[2], *dWo[2], *dbo[2], *dx[2], *dh0[2];
    double E[2];
    for (int s = 0; s < 2; s++) {
        h[s] = calloc(nh, sizeof(double));
        y[s] = calloc(ny, sizeof(double));
        dW[s] = calloc(nW, sizeof(double));
        dbh[s] = calloc(DOUT, sizeof(double));
        dWo[s] = calloc(nWo, sizeof(double));
        dbo[s] = calloc(NOUT, sizeof(double));
        dx[s] = calloc(nx, sizeof(double));
        dh0[s] = calloc(nh0, sizeof(double));
    }
    bptt_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_workspace_alloc(el, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_elman_forward(el, T, B, W, lay.ldw, bh, Wo, lay.ldwo,
                                        bo, x, lay.ldx, h0, lay.ldh0, labels,
                                        L, lay.ldl, &E[0], h[0], lay.ldh,
                                        y[0], lay.ldy, algo, ws), BPTT_OK);
    ck_assert_int_eq(bptt_elman_backward(el, T, B, W, lay.ldw, Wo, lay.ldwo,
                                         labels, L, lay.ldl, 0.0, dW[0],
                                         lay.lddw, dbh[0], dWo[0], lay.lddwo,
                                         dbo[0], dx[0], lay.lddx, dh0[0],
                                         lay.lddh0, algo, ws), BPTT_OK);
    bptt_elman_workspace_free(ws);

    bptt_elman_plan *plan;
    ck_assert_int_eq(bptt_elman_plan_create(el, T, B, pad ? &lay : NULL, algo,
                                            &plan), BPTT_OK);
    const bptt_elman_params prm = {W, bh, Wo, bo};
    const bptt_elman_targets tg = {labels, L};
    const bptt_elman_grads g = {dW[1], dbh[1], dWo[1], dbo[1], dx[1], dh0[1]};
    ck_assert_int_eq(bptt_elman_plan_forward(plan, T, B, &prm, x, h0, &tg,
                                             &E[1], h[1], y[1]), BPTT_OK);
    ck_assert_int_eq(bptt_elman_plan_backward(plan, T, B, &prm, &tg, 0.0, &g),
                     BPTT_OK);
    ck_assert_ptr_nonnull(bptt_elman_plan_workspace(plan));
    bptt_elman_plan_destroy(plan);

    SAME(&E[1], &E[0], 1);
    SAME(h[1], h[0], nh);
    SAME(y[1], y[0], ny);
    SAME(dW[1], dW[0], nW);
    SAME(dbh[1], dbh[0], DOUT);
    SAME(dWo[1], dWo[0], nWo);
    SAME(dbo[1], dbo[0], NOUT);
    SAME(dx[1], dx[0], nx);
    SAME(dh0[1], dh0[0], nh0);
    for (int s = 0; s < 2; s++) {
        free(h[s]);
        free(y[s]);
        free(dW[s]);
        free(dbh[s]);
        free(dWo[s]);
        free(dbo[s]);
        free(dx[s]);
        free(dh0[s]);
    }
    free(W);
    free(bh);
    free(Wo);
    free(bo);
    free(x);
    free(h0);
    free(L);
    free(labels);
    bptt_elman_free(el);
    bptt_net_free(net);
}

START_TEST(elman_plan_equals_expert)
{
    const bptt_algo algo = (bptt_algo)(BPTT_ALGO_NAIVE + _i);
    check_elman(BPTT_HEAD_SOFTMAX, 1, 0, algo);
    check_elman(BPTT_HEAD_SOFTMAX, 3, 2, algo);
    check_elman(BPTT_HEAD_LINEAR, 2, 1, algo);
}
END_TEST

/* The float Elman plan on the same case, against bpttf_elman_*. */
START_TEST(elman_plan_equals_expert_float)
{
    tu_rng r = {7};
    const size_t B = 2, TB = T * B, m = DIN + DOUT;
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(net, NOUT, BPTT_HEAD_SOFTMAX, &el),
                     BPTT_OK);
    double *Wd = tu_random(DOUT * m, 0.5, &r), *Wod = tu_random(NOUT * DOUT,
                                                                0.5, &r);
    double *xd = tu_random(TB * DIN, 1.0, &r);
    float *W = tu_to_float(Wd, DOUT * m), *Wo = tu_to_float(Wod, NOUT * DOUT);
    float *x = tu_to_float(xd, TB * DIN);
    int labels[T * 2];
    for (size_t k = 0; k < TB; k++)
        labels[k] = (int)(k % NOUT);
    float *dW[2], *dWo[2], *y[2];
    double E[2];
    for (int s = 0; s < 2; s++) {
        dW[s] = calloc(DOUT * m, sizeof(float));
        dWo[s] = calloc(NOUT * DOUT, sizeof(float));
        y[s] = calloc(TB * NOUT, sizeof(float));
    }
    bpttf_elman_workspace *ws;
    ck_assert_int_eq(bpttf_elman_workspace_alloc(el, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bpttf_elman_forward(el, T, B, W, m, NULL, Wo, DOUT, NULL,
                                         x, DIN, NULL, 0, labels, NULL, 0,
                                         &E[0], NULL, 0, y[0], NOUT,
                                         BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_int_eq(bpttf_elman_backward(el, T, B, W, m, Wo, DOUT, labels,
                                          NULL, 0, 0.0f, dW[0], m, NULL,
                                          dWo[0], DOUT, NULL, NULL, 0, NULL, 0,
                                          BPTT_ALGO_AUTO, ws), BPTT_OK);
    bpttf_elman_workspace_free(ws);
    bpttf_elman_plan *plan;
    ck_assert_int_eq(bpttf_elman_plan_create(el, T, B, NULL, BPTT_ALGO_AUTO,
                                             &plan), BPTT_OK);
    const bpttf_elman_params prm = {W, NULL, Wo, NULL};
    const bpttf_elman_targets tg = {labels, NULL};
    const bpttf_elman_grads g = {dW[1], NULL, dWo[1], NULL, NULL, NULL};
    ck_assert_int_eq(bpttf_elman_plan_forward(plan, T, B, &prm, x, NULL, &tg,
                                              &E[1], NULL, y[1]), BPTT_OK);
    ck_assert_int_eq(bpttf_elman_plan_backward(plan, T, B, &prm, &tg, 0.0f,
                                               &g), BPTT_OK);
    bpttf_elman_plan_destroy(plan);
    SAME(&E[1], &E[0], 1);
    SAME(y[1], y[0], TB * NOUT);
    SAME(dW[1], dW[0], DOUT * m);
    SAME(dWo[1], dWo[0], NOUT * DOUT);
    for (int s = 0; s < 2; s++) {
        free(dW[s]);
        free(dWo[s]);
        free(y[s]);
    }
    free(Wd);
    free(Wod);
    free(xd);
    free(W);
    free(Wo);
    free(x);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* RTRL                                                                      */
/* ------------------------------------------------------------------------ */

/* The plan's sequence against bptt_rtrl_sequence, and the plan's reset and
 * steps against bptt_rtrl_reset and bptt_rtrl_step; _i: naive, gemm. */
START_TEST(rtrl_plan_equals_expert)
{
    const bptt_rtrl_algo algo = (bptt_rtrl_algo)(BPTT_RTRL_NAIVE + _i);
    const size_t B = 2;
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, 1,
                                   TU_BIAS | TU_Y0 | TU_MASK, 23);
    const size_t TB = T * B, nW = DOUT * p->ldw, ny = TB * p->ldy;
    double *y[2], *dW[2], *db[2], loss[2];
    for (int s = 0; s < 2; s++) {
        y[s] = calloc(ny, sizeof(double));
        dW[s] = calloc(nW, sizeof(double));
        db[s] = calloc(DOUT, sizeof(double));
    }
    bptt_rtrl *st;
    ck_assert_int_eq(bptt_rtrl_alloc(p->net, B, &st), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_sequence(p->net, T, B, p->W, p->ldw, p->b,
                                        p->x, p->ldx, p->y0, p->ldy0,
                                        p->target, p->ldy, p->mask, y[0],
                                        p->ldy, &loss[0], 0.0, dW[0], p->ldw,
                                        db[0], algo, st), BPTT_OK);
    const bptt_layout lay = layout_of(p);
    bptt_rtrl_plan *plan;
    ck_assert_int_eq(bptt_rtrl_plan_create(p->net, B + 1, &lay, algo, &plan),
                     BPTT_OK);
    const bptt_params prm = {p->W, p->b};
    const bptt_targets tg = {p->target, p->mask};
    const bptt_grads g = {dW[1], db[1], NULL, NULL};
    ck_assert_int_eq(bptt_rtrl_plan_sequence(plan, T, B, &prm, p->x, p->y0,
                                             &tg, y[1], &loss[1], 0.0, &g),
                     BPTT_OK);
    SAME(y[1], y[0], ny);
    SAME(&loss[1], &loss[0], 1);
    SAME(dW[1], dW[0], nW);
    SAME(db[1], db[0], DOUT);

    /* step by step, beta = 1 after the first */
    ck_assert_int_eq(bptt_rtrl_reset(p->net, B, p->y0, p->ldy0, st), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_plan_reset(plan, B, p->y0), BPTT_OK);
    for (size_t t = 0; t < T; t++) {
        const size_t k = t * B;
        const double beta = t ? 1.0 : 0.0;
        ck_assert_int_eq(bptt_rtrl_step(p->net, B, p->W, p->ldw, p->b,
                                        p->x + k * p->ldx, p->ldx,
                                        p->target + k * p->ldy, p->ldy,
                                        p->mask + k, y[0] + k * p->ldy,
                                        p->ldy, &loss[0], beta, dW[0], p->ldw,
                                        db[0], algo, st), BPTT_OK);
        const bptt_targets tk = {p->target + k * p->ldy, p->mask + k};
        ck_assert_int_eq(bptt_rtrl_plan_step(plan, &prm, p->x + k * p->ldx,
                                             &tk, y[1] + k * p->ldy, &loss[1],
                                             beta, &g), BPTT_OK);
        SAME(&loss[1], &loss[0], 1);
    }
    SAME(y[1], y[0], ny);
    SAME(dW[1], dW[0], nW);
    SAME(db[1], db[0], DOUT);

    /* advance and accumulate with the caller's dy */
    double *dy = calloc(B * p->ldy, sizeof(double));
    for (size_t i = 0; i < B * p->ldy; i++)
        dy[i] = 0.1 * (double)(i % 7) - 0.3;
    ck_assert_int_eq(bptt_rtrl_advance(p->net, B, p->W, p->ldw, p->b, p->x,
                                       p->ldx, y[0], p->ldy, algo, st),
                     BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_accumulate(p->net, B, dy, p->ldy, 1.0, dW[0],
                                          p->ldw, db[0], algo, st), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_plan_advance(plan, &prm, p->x, y[1]), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_plan_accumulate(plan, dy, 1.0, &g), BPTT_OK);
    SAME(y[1], y[0], B * p->ldy);
    SAME(dW[1], dW[0], nW);
    SAME(db[1], db[0], DOUT);
    ck_assert_ptr_nonnull(bptt_rtrl_plan_state(plan));

    free(dy);
    bptt_rtrl_plan_destroy(plan);
    bptt_rtrl_free(st);
    for (int s = 0; s < 2; s++) {
        free(y[s]);
        free(dW[s]);
        free(db[s]);
    }
    tu_problem_free(p);
}
END_TEST

START_TEST(rtrl_plan_equals_expert_float)
{
    const size_t B = 2;
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, 0, TU_BIAS,
                                   29);
    const size_t TB = T * B, nW = DOUT * p->ldw;
    float *W = tu_to_float(p->W, nW), *b = tu_to_float(p->b, DOUT);
    float *x = tu_to_float(p->x, TB * DIN);
    float *tgt = tu_to_float(p->target, TB * DOUT);
    float *dW[2], *db[2];
    double loss[2];
    for (int s = 0; s < 2; s++) {
        dW[s] = calloc(nW, sizeof(float));
        db[s] = calloc(DOUT, sizeof(float));
    }
    bpttf_rtrl *st;
    ck_assert_int_eq(bpttf_rtrl_alloc(p->net, B, &st), BPTT_OK);
    ck_assert_int_eq(bpttf_rtrl_sequence(p->net, T, B, W, p->ldw, b, x, DIN,
                                         NULL, 0, tgt, DOUT, NULL, NULL, 0,
                                         &loss[0], 0.0f, dW[0], p->ldw, db[0],
                                         BPTT_RTRL_AUTO, st), BPTT_OK);
    bpttf_rtrl_free(st);
    bpttf_rtrl_plan *plan;
    ck_assert_int_eq(bpttf_rtrl_plan_create(p->net, B, NULL, BPTT_RTRL_AUTO,
                                            &plan), BPTT_OK);
    const bpttf_params prm = {W, b};
    const bpttf_targets tg = {tgt, NULL};
    const bpttf_grads g = {dW[1], db[1], NULL, NULL};
    ck_assert_int_eq(bpttf_rtrl_plan_sequence(plan, T, B, &prm, x, NULL, &tg,
                                              NULL, &loss[1], 0.0f, &g),
                     BPTT_OK);
    bpttf_rtrl_plan_destroy(plan);
    SAME(&loss[1], &loss[0], 1);
    SAME(dW[1], dW[0], nW);
    SAME(db[1], db[0], DOUT);
    for (int s = 0; s < 2; s++) {
        free(dW[s]);
        free(db[s]);
    }
    free(W);
    free(b);
    free(x);
    free(tgt);
    tu_problem_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Traps                                                                     */
/* ------------------------------------------------------------------------ */

/* A refused creation: the status, a detail containing `name`, and *plan
 * as it was (a sentinel). */
#define TRAP_CREATE(call, plan, want, name)                                    \
    do {                                                                       \
        memset(&(plan), 0xA5, sizeof(plan));                                   \
        tu_snap s_ = {0};                                                      \
        tu_snap_add(&s_, &(plan), sizeof(plan));                               \
        TU_REFUSED(call, want, &s_);                                           \
        tu_snap_free(&s_);                                                     \
        ck_assert_msg(strstr(bptt_error_detail(), (name)) != NULL,             \
                      "%s: detail \"%s\" does not name %s", #call,             \
                      bptt_error_detail(), (name));                            \
    } while (0)

/* Each member of bptt_layout set one below its row length (din+dout for
 * ldw, lddw; din for ldx, lddx; dout for the rest) is refused by name, by
 * both Network A plans and the RTRL plan; one above INT_MAX likewise. */
START_TEST(layout_refused_by_name)
{
    static const char *const names[] = {"ldw",  "ldx",  "ldy0",
                                        "ldy",  "ldt",  "lddy",
                                        "lddw", "lddx", "lddy0"};
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    const size_t m = DIN + DOUT;
    const size_t rowlen[] = {m, DIN, DOUT, DOUT, DOUT, DOUT, m, DIN, DOUT};
    for (size_t i = 0; i < 9; i++) {
        for (int big = 0; big < 2; big++) {
            bptt_layout lay = {0};
            size_t *member = (size_t *)(void *)&lay + i;
            *member = big ? (size_t)INT_MAX + 1 : rowlen[i] - 1;
            const bptt_status want = big ? BPTT_EOVERFLOW : BPTT_ELD;
            char name[32];
            snprintf(name, sizeof name, "layout->%s ", names[i]);
            bptt_plan *p;
            bpttf_plan *pf;
            bptt_rtrl_plan *pr;
            TRAP_CREATE(bptt_plan_create(net, T, 2, &lay, BPTT_ALGO_AUTO, &p),
                        p, want, name);
            TRAP_CREATE(bpttf_plan_create(net, T, 2, &lay, BPTT_ALGO_AUTO,
                                          &pf), pf, want, name);
            TRAP_CREATE(bptt_rtrl_plan_create(net, 2, &lay, BPTT_RTRL_AUTO,
                                              &pr), pr, want, name);
        }
    }
    /* the other refusals of creation */
    bptt_plan *p;
    bptt_rtrl_plan *pr;
    TRAP_CREATE(bptt_plan_create(NULL, T, 1, NULL, BPTT_ALGO_AUTO, &p), p,
                BPTT_ENULL, "net");
    TRAP_CREATE(bptt_plan_create(net, 0, 1, NULL, BPTT_ALGO_AUTO, &p), p,
                BPTT_ESIZE, "Tmax");
    TRAP_CREATE(bptt_plan_create(net, T, 1, NULL, BPTT_NALGO, &p), p,
                BPTT_EALGO, "algo");
    TRAP_CREATE(bptt_plan_create(net, SIZE_MAX / 2, 4, NULL, BPTT_ALGO_AUTO,
                                 &p), p, BPTT_EOVERFLOW, "Tmax");
    TRAP_CREATE(bptt_rtrl_plan_create(net, 0, NULL, BPTT_RTRL_AUTO, &pr), pr,
                BPTT_ESIZE, "Bmax");
    TRAP_CREATE(bptt_rtrl_plan_create(net, 1, NULL, BPTT_RTRL_NALGO, &pr), pr,
                BPTT_EALGO, "algo");
    bptt_net_free(net);
}
END_TEST

/* The same for every member of bptt_elman_layout. */
START_TEST(elman_layout_refused_by_name)
{
    static const char *const names[] = {"ldw",  "ldwo",  "ldx",  "ldh0",
                                        "ldl",  "ldh",   "ldy",  "lddw",
                                        "lddwo", "lddx", "lddh0"};
    const size_t m = DIN + DOUT;
    const size_t rowlen[] = {m, DOUT, DIN, DOUT, NOUT, DOUT,
                             NOUT, m, DOUT, DIN, DOUT};
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(net, NOUT, BPTT_HEAD_SOFTMAX, &el),
                     BPTT_OK);
    for (size_t i = 0; i < 11; i++) {
        bptt_elman_layout lay = {0};
        ((size_t *)(void *)&lay)[i] = rowlen[i] - 1;
        char name[32];
        snprintf(name, sizeof name, "layout->%s ", names[i]);
        bptt_elman_plan *p;
        bpttf_elman_plan *pf;
        TRAP_CREATE(bptt_elman_plan_create(el, T, 2, &lay, BPTT_ALGO_AUTO, &p),
                    p, BPTT_ELD, name);
        TRAP_CREATE(bpttf_elman_plan_create(el, T, 2, &lay, BPTT_ALGO_AUTO,
                                            &pf), pf, BPTT_ELD, name);
    }
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

/* A call with T > Tmax or B > Bmax, on every Network A and Network B plan
 * call, and B > Bmax on the RTRL plan: BPTT_ECAPACITY, nothing written —
 * not the outputs, not the plan's workspace (a backward after the refused
 * forward still sees the first forward). */
START_TEST(beyond_capacity_writes_nothing)
{
    const size_t Tmax = 4, Bmax = 2;
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), Tmax + 1, Bmax + 1,
                                   0, TU_BIAS | TU_Y0, 31);
    const size_t rows = (Tmax + 1) * (Bmax + 1), nW = DOUT * p->ldw;
    double *y = calloc(rows * DOUT, sizeof(double));
    double *dy = calloc(rows * DOUT, sizeof(double));
    double *dW = calloc(nW, sizeof(double)), *dx = calloc(rows * DIN, 8);
    double loss = 42;
    bptt_plan *plan;
    ck_assert_int_eq(bptt_plan_create(p->net, Tmax, Bmax, NULL,
                                      BPTT_ALGO_AUTO, &plan), BPTT_OK);
    const bptt_params prm = {p->W, p->b};
    const bptt_targets tg = {p->target, NULL};
    const bptt_grads g = {dW, NULL, dx, NULL};
    ck_assert_int_eq(bptt_plan_forward(plan, Tmax, Bmax, &prm, p->x, p->y0, y),
                     BPTT_OK);
    const size_t shapes[2][2] = {{Tmax + 1, Bmax}, {Tmax, Bmax + 1}};
    for (int s = 0; s < 2; s++) {
        const size_t Tc = shapes[s][0], Bc = shapes[s][1];
        tu_snap snap = {0};
        tu_snap_add(&snap, y, rows * DOUT * sizeof(double));
        tu_snap_add(&snap, dy, rows * DOUT * sizeof(double));
        tu_snap_add(&snap, dW, nW * sizeof(double));
        tu_snap_add(&snap, dx, rows * DIN * sizeof(double));
        tu_snap_add(&snap, &loss, sizeof loss);
        TU_REFUSED(bptt_plan_forward(plan, Tc, Bc, &prm, p->x, p->y0, y),
                   BPTT_ECAPACITY, &snap);
        TU_REFUSED(bptt_plan_loss(plan, Tc, Bc, y, &tg, &loss, dy),
                   BPTT_ECAPACITY, &snap);
        TU_REFUSED(bptt_plan_backward(plan, Tc, Bc, &prm, dy, 0.0, &g),
                   BPTT_ECAPACITY, &snap);
        ck_assert(strstr(bptt_error_detail(), "Tmax") != NULL);
        tu_snap_free(&snap);
    }
    /* the workspace still holds the Tmax x Bmax forward */
    ck_assert_int_eq(bptt_plan_backward(plan, Tmax, Bmax, &prm, dy, 0.0, &g),
                     BPTT_OK);
    bptt_plan_destroy(plan);

    /* Network B */
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(p->net, DOUT, BPTT_HEAD_LINEAR, &el),
                     BPTT_OK);
    bptt_elman_plan *ep;
    ck_assert_int_eq(bptt_elman_plan_create(el, Tmax, Bmax, NULL,
                                            BPTT_ALGO_AUTO, &ep), BPTT_OK);
    const bptt_elman_params eprm = {p->W, NULL, p->W, NULL}; /* Wo: dout x m */
    const bptt_elman_targets etg = {NULL, p->target};
    double *dWo = calloc(DOUT * DOUT, sizeof(double)), E = 7;
    const bptt_elman_grads eg = {dW, NULL, dWo, NULL, dx, NULL};
    for (int s = 0; s < 2; s++) {
        const size_t Tc = shapes[s][0], Bc = shapes[s][1];
        tu_snap snap = {0};
        tu_snap_add(&snap, y, rows * DOUT * sizeof(double));
        tu_snap_add(&snap, dW, nW * sizeof(double));
        tu_snap_add(&snap, dWo, DOUT * DOUT * sizeof(double));
        tu_snap_add(&snap, dx, rows * DIN * sizeof(double));
        tu_snap_add(&snap, &E, sizeof E);
        TU_REFUSED(bptt_elman_plan_forward(ep, Tc, Bc, &eprm, p->x, NULL,
                                           &etg, &E, NULL, y),
                   BPTT_ECAPACITY, &snap);
        TU_REFUSED(bptt_elman_plan_backward(ep, Tc, Bc, &eprm, &etg, 0.0,
                                            &eg),
                   BPTT_ECAPACITY, &snap);
        tu_snap_free(&snap);
    }
    bptt_elman_plan_destroy(ep);
    bptt_elman_free(el);

    /* RTRL */
    bptt_rtrl_plan *rp;
    ck_assert_int_eq(bptt_rtrl_plan_create(p->net, Bmax, NULL, BPTT_RTRL_AUTO,
                                           &rp), BPTT_OK);
    const bptt_grads rg = {dW, NULL, NULL, NULL};
    tu_snap snap = {0};
    tu_snap_add(&snap, y, rows * DOUT * sizeof(double));
    tu_snap_add(&snap, dW, nW * sizeof(double));
    tu_snap_add(&snap, &loss, sizeof loss);
    TU_REFUSED(bptt_rtrl_plan_reset(rp, Bmax + 1, NULL), BPTT_ECAPACITY, &snap);
    TU_REFUSED(bptt_rtrl_plan_sequence(rp, Tmax, Bmax + 1, &prm, p->x, NULL,
                                       &tg, y, &loss, 0.0, &rg),
               BPTT_ECAPACITY, &snap);
    /* per-step calls before any reset */
    TU_REFUSED(bptt_rtrl_plan_step(rp, &prm, p->x, &tg, y, &loss, 0.0, &rg),
               BPTT_EINVAL, &snap);
    /* input gradients asked of forward mode */
    const bptt_grads bad = {dW, NULL, dx, NULL};
    TU_REFUSED(bptt_rtrl_plan_sequence(rp, Tmax, Bmax, &prm, p->x, NULL,
                                       &tg, y, &loss, 0.0, &bad),
               BPTT_EINVAL, &snap);
    ck_assert(strstr(bptt_error_detail(), "g->dx") != NULL);
    tu_snap_free(&snap);
    bptt_rtrl_plan_destroy(rp);

    free(y);
    free(dy);
    free(dW);
    free(dWo);
    free(dx);
    tu_problem_free(p);
}
END_TEST

/* NULL plans and structs are refused by name; destroy(NULL) is a no-op. */
START_TEST(null_arguments)
{
    double y = 0;
    const bptt_params prm = {NULL, NULL};
    TU_REFUSED(bptt_plan_forward(NULL, 1, 1, &prm, &y, NULL, &y), BPTT_ENULL,
               NULL);
    ck_assert(strstr(bptt_error_detail(), "plan") != NULL);
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    bptt_plan *plan;
    ck_assert_int_eq(bptt_plan_create(net, 2, 1, NULL, BPTT_ALGO_AUTO, &plan),
                     BPTT_OK);
    TU_REFUSED(bptt_plan_forward(plan, 1, 1, NULL, &y, NULL, &y), BPTT_ENULL,
               NULL);
    ck_assert(strstr(bptt_error_detail(), "prm") != NULL);
    TU_REFUSED(bptt_plan_forward(plan, 1, 1, &prm, &y, NULL, &y), BPTT_ENULL,
               NULL);
    ck_assert(strstr(bptt_error_detail(), "W") != NULL);
    ck_assert_str_eq(bptt_cell_name(bptt_plan_cell(plan)), "vanilla");
    ck_assert_ptr_null(bptt_cell_name(BPTT_NCELL));
    ck_assert_int_eq(bptt_plan_cell(NULL), BPTT_NCELL);
    bptt_plan_destroy(plan);
    bptt_plan_destroy(NULL);
    bpttf_plan_destroy(NULL);
    bpttf_elman_plan_destroy(NULL);
    bpttf_rtrl_plan_destroy(NULL);
    bptt_elman_plan_destroy(NULL);
    bptt_rtrl_plan_destroy(NULL);
    bptt_net_free(net);
}
END_TEST

/* bptt_plan_set_threads, every cell: a plan on 2 threads gives bitwise
 * what it gives on 1 (the shape, B·n² = 300², is above the size at which
 * the loops are shared); NULL and a bad count are refused. */
START_TEST(plan_threads_bitwise)
{
    const bptt_cell cells[] = {BPTT_CELL_VANILLA, BPTT_CELL_LSTM, BPTT_CELL_GRU};
    const bptt_cell cell = cells[_i];
    const size_t din = 5, n = 300, T = 4, B = 1;
    const size_t G = cell == BPTT_CELL_VANILLA ? 1 : bptt_gated_gates(cell);
    const size_t m = din + n, rows = G * n;
    bptt_net *net;
    ck_assert_int_eq(bptt_net_create_uniform(din, n, BPTT_ACT_TANH, NULL, &net),
                     BPTT_OK);
    tu_rng r = {41 + (unsigned long long)_i};
    double *W = tu_random(rows * m, 0.05, &r), *x = tu_random(T * B * din, 1, &r);
    double *dy = tu_random(T * B * n, 1, &r);
    double *y[2], *dW[2];
    ck_assert_int_eq(bptt_plan_set_threads(NULL, 2), BPTT_ENULL);
    for (int k = 0; k < 2; k++) {
        bptt_plan *plan;
        ck_assert_int_eq(bptt_plan_create_cell(cell, net, T, B, NULL,
                                               BPTT_ALGO_DEFERRED, &plan),
                         BPTT_OK);
        ck_assert_int_eq(bptt_plan_set_threads(plan, 0), BPTT_EINVAL);
        ck_assert_int_eq(bptt_plan_set_threads(plan, k + 1), BPTT_OK);
        y[k] = calloc(T * B * n, sizeof(double));
        dW[k] = calloc(rows * m, sizeof(double));
        const bptt_params prm = {W, NULL};
        const bptt_grads g = {dW[k], NULL, NULL, NULL};
        ck_assert_int_eq(bptt_plan_forward(plan, T, B, &prm, x, NULL, y[k]),
                         BPTT_OK);
        ck_assert_int_eq(bptt_plan_backward(plan, T, B, &prm, dy, 0.0, &g),
                         BPTT_OK);
        bptt_plan_destroy(plan);
    }
    ck_assert(memcmp(y[0], y[1], T * B * n * sizeof(double)) == 0);
    ck_assert(memcmp(dW[0], dW[1], rows * m * sizeof(double)) == 0);
    for (int k = 0; k < 2; k++)
        free(y[k]), free(dW[k]);
    free(W), free(x), free(dy);
    bptt_net_free(net);
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("reference");
    tcase_add_loop_test(tc, network_plan_equals_expert, 0, 3);
    tcase_add_loop_test(tc, network_plan_equals_expert_float, 0, 3);
    tcase_add_loop_test(tc, elman_plan_equals_expert, 0, 3);
    tcase_add_test(tc, elman_plan_equals_expert_float);
    tcase_add_loop_test(tc, rtrl_plan_equals_expert, 0, 2);
    tcase_add_test(tc, rtrl_plan_equals_expert_float);
    tcase_add_loop_test(tc, plan_threads_bitwise, 0, 3);
    suite_add_tcase(s, tc);
    TCase *trap = tcase_create("trap");
    tcase_add_test(trap, layout_refused_by_name);
    tcase_add_test(trap, elman_layout_refused_by_name);
    tcase_add_test(trap, beyond_capacity_writes_nothing);
    tcase_add_test(trap, null_arguments);
    suite_add_tcase(s, trap);
    return s;
}

int main(void)
{
    return tu_run_suite(plan_suite());
}
