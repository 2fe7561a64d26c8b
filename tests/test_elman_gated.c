/*
 * test_elman_gated.c — Network B on a gated core with the gated cell's full
 * options (bptt_elman_workspace_set_gated_bias, _set_cell_state;
 * docs/gated.md, "Network B and the plan layer"):
 *   reference  the Elman calls against the gated cell called directly and
 *              the linear head computed here, LSTM and GRU, every output;
 *   gradcheck  central differences on the new blocks: b_hh (all of it for
 *              the GRU, whose n block sits inside the reset product) and
 *              the LSTM's c(0);
 *   identity   a sequence cut in two calls, (h(T), c(T)) carried into the
 *              second call's (h0, c0), gives the whole sequence's h;
 *   trap       each refusal, with nothing written.
 */
#include <bptt.h>
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { DIN = 3, DH = 4, NOUT = 2, T = 5, B = 2, M = DIN + DH, GMAX = 4 };

/* One problem: the Elman descriptor and workspace on cell, its arrays. */
typedef struct prob {
    bptt_cell cell;
    size_t G;
    bptt_net *net;
    bptt_elman *el;
    bptt_elman_workspace *ws;
    double W[GMAX * DH * M], bh[GMAX * DH], bhh[GMAX * DH];
    double Wo[NOUT * DH], bo[NOUT], x[T * B * DIN], h0[B * DH], c0[B * DH];
    double L[T * B * NOUT];
} prob;

static void prob_make(prob *p, bptt_cell cell, unsigned seed)
{
    memset(p, 0, sizeof *p);
    p->cell = cell;
    p->G = bptt_gated_gates(cell);
    tu_rng r = {seed};
    double *arr[] = {p->W, p->bh, p->bhh, p->Wo, p->bo, p->x, p->h0, p->c0,
                     p->L};
    const size_t cnt[] = {p->G * DH * M, p->G * DH, p->G * DH, NOUT * DH,
                          NOUT, T * B * DIN, B * DH, B * DH, T * B * NOUT};
    for (size_t a = 0; a < sizeof cnt / sizeof *cnt; a++)
        for (size_t i = 0; i < cnt[a]; i++)
            arr[a][i] = 0.7 * tu_uniform(&r);
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DH, BPTT_ACT_TANH, NULL,
                                             &p->net), BPTT_OK);
    ck_assert_int_eq(bptt_elman_create_cell(cell, p->net, NOUT,
                                            BPTT_HEAD_LINEAR, &p->el),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_workspace_alloc(p->el, T, B, &p->ws),
                     BPTT_OK);
}

static void prob_free(prob *p)
{
    bptt_elman_workspace_free(p->ws);
    bptt_elman_free(p->el);
    bptt_net_free(p->net);
}

static bptt_status elman_fwd(const prob *p, size_t Tn, const double *x,
                             const double *h0, const double *L, double *E,
                             double *h, bptt_algo algo)
{
    return bptt_elman_forward(p->el, Tn, B, p->W, M, p->bh, p->Wo, DH, p->bo,
                              x, DIN, h0, DH, NULL, L, NOUT, E, h, DH, NULL,
                              0, algo, p->ws);
}

/* The loss E at the problem's arrays (the set options included). */
static double loss(const void *vp)
{
    const prob *p = vp;
    double E = 0;
    ck_assert_int_eq(elman_fwd(p, T, p->x, p->h0, p->L, &E, NULL,
                               BPTT_ALGO_NAIVE), BPTT_OK);
    return E;
}

/* Every gradient of the Elman backward, and the forward's h and c(T). */
typedef struct grads {
    double E, h[T * B * DH], cT[B * DH];
    double dW[GMAX * DH * M], dbh[GMAX * DH], dbhh[GMAX * DH];
    double dWo[NOUT * DH], dbo[NOUT], dx[T * B * DIN], dh0[B * DH];
    double dc0[B * DH];
} grads;

static void max_err(double *e, const double *a, const double *r, size_t n)
{
    const double v = tu_relerr(1, n, a, n, r, n);
    if (v > *e)
        *e = v;
}

/* The Elman calls against bptt_gated_forward / _backward called directly
 * (bx = bh, bh = b_hh, c(0)) and the linear head by hand:
 * y = h Woᵀ + bo, E = ½ Σ ‖y − l‖², dL/dh = (y − l) Wo. */
START_TEST(against_the_cell_and_the_head)
{
    static prob p;
    static grads e, d;
    const int lstm = _i / 2 == 0;
    const bptt_algo algo = _i % 2 ? BPTT_ALGO_DEFERRED : BPTT_ALGO_NAIVE;
    prob_make(&p, lstm ? BPTT_CELL_LSTM : BPTT_CELL_GRU, 81 + (unsigned)_i);
    const size_t Gn = p.G * DH;
    ck_assert_int_eq(bptt_elman_workspace_set_gated_bias(p.ws, p.bhh,
                                                         e.dbhh), BPTT_OK);
    if (lstm)
        ck_assert_int_eq(bptt_elman_workspace_set_cell_state(
                             p.ws, p.c0, DH, e.cT, DH, e.dc0, DH), BPTT_OK);
    ck_assert_int_eq(elman_fwd(&p, T, p.x, p.h0, p.L, &e.E, e.h, algo),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_backward(p.el, T, B, p.W, M, p.Wo, DH, NULL,
                                         p.L, NOUT, 0, e.dW, M, e.dbh, e.dWo,
                                         DH, e.dbo, e.dx, DIN, e.dh0, DH, algo,
                                         p.ws), BPTT_OK);

    /* directly */
    bptt_gated_workspace *gw;
    ck_assert_int_eq(bptt_gated_workspace_alloc(p.cell, DIN, DH, T, B, &gw),
                     BPTT_OK);
    ck_assert_int_eq(bptt_gated_forward(T, B, p.W, M, p.W + DIN, M, p.bh,
                                        p.bhh, p.x, DIN, p.h0, DH,
                                        lstm ? p.c0 : NULL, DH, d.h, DH,
                                        lstm ? d.cT : NULL, DH,
                                        BPTT_ALGO_NAIVE, gw), BPTT_OK);
    double dy[T * B * NOUT], dhs[T * B * DH] = {0};
    d.E = 0;
    for (size_t k = 0; k < T * B; k++)
        for (size_t o = 0; o < NOUT; o++) {
            double y = p.bo[o];
            for (size_t j = 0; j < DH; j++)
                y += d.h[k * DH + j] * p.Wo[o * DH + j];
            dy[k * NOUT + o] = y - p.L[k * NOUT + o];
            d.E += 0.5 * dy[k * NOUT + o] * dy[k * NOUT + o];
            d.dbo[o] = (k ? d.dbo[o] : 0) + dy[k * NOUT + o];
            for (size_t j = 0; j < DH; j++) {
                dhs[k * DH + j] += dy[k * NOUT + o] * p.Wo[o * DH + j];
                d.dWo[o * DH + j] = (k ? d.dWo[o * DH + j] : 0)
                                    + dy[k * NOUT + o] * d.h[k * DH + j];
            }
        }
    ck_assert_int_eq(bptt_gated_backward(T, B, p.W, M, p.W + DIN, M, dhs, DH,
                                         NULL, 0, 0, d.dW, M, d.dW + DIN, M,
                                         d.dbh, d.dbhh, d.dx, DIN, d.dh0, DH,
                                         lstm ? d.dc0 : NULL, DH,
                                         BPTT_ALGO_NAIVE, gw), BPTT_OK);
    bptt_gated_workspace_free(gw);

    double err = tu_relerr(1, 1, &e.E, 1, &d.E, 1);
    max_err(&err, e.h, d.h, T * B * DH);
    max_err(&err, e.dW, d.dW, Gn * M);
    max_err(&err, e.dbh, d.dbh, Gn);
    max_err(&err, e.dbhh, d.dbhh, Gn);
    max_err(&err, e.dWo, d.dWo, NOUT * DH);
    max_err(&err, e.dbo, d.dbo, NOUT);
    max_err(&err, e.dx, d.dx, T * B * DIN);
    max_err(&err, e.dh0, d.dh0, B * DH);
    if (lstm) {
        max_err(&err, e.cT, d.cT, B * DH);
        max_err(&err, e.dc0, d.dc0, B * DH);
    }
    ck_assert_msg(err <= TOL_REFERENCE, "relative error %g", err);
    /* b_hh changes the GRU's result beyond rounding (its n block is not
     * redundant) — and the LSTM's, where it adds to bx */
    double h1[T * B * DH];
    ck_assert_int_eq(bptt_elman_workspace_set_gated_bias(p.ws, NULL, NULL),
                     BPTT_OK);
    ck_assert_int_eq(elman_fwd(&p, T, p.x, p.h0, p.L, NULL, h1, algo),
                     BPTT_OK);
    ck_assert(tu_relerr(1, T * B * DH, h1, 0, e.h, 0) > 1e-3);
    prob_free(&p);
}
END_TEST

/* Central differences of E on b_hh and (LSTM) c(0) against the Elman
 * backward's dbhh and dc0. */
START_TEST(gradcheck_new_blocks)
{
    static prob p;
    static grads g;
    const int lstm = _i == 0;
    prob_make(&p, lstm ? BPTT_CELL_LSTM : BPTT_CELL_GRU, 91 + (unsigned)_i);
    ck_assert_int_eq(bptt_elman_workspace_set_gated_bias(p.ws, p.bhh,
                                                         g.dbhh), BPTT_OK);
    if (lstm)
        ck_assert_int_eq(bptt_elman_workspace_set_cell_state(
                             p.ws, p.c0, DH, NULL, 0, g.dc0, DH), BPTT_OK);
    ck_assert_int_eq(elman_fwd(&p, T, p.x, p.h0, p.L, &g.E, NULL,
                               BPTT_ALGO_DEFERRED), BPTT_OK);
    ck_assert_int_eq(bptt_elman_backward(p.el, T, B, p.W, M, p.Wo, DH, NULL,
                                         p.L, NOUT, 0, g.dW, M, NULL, g.dWo,
                                         DH, NULL, NULL, 0, NULL, 0,
                                         BPTT_ALGO_DEFERRED, p.ws), BPTT_OK);
    const double eb = tu_fd_block(loss, &p, p.bhh, 1, p.G * DH, p.G * DH,
                                  g.dbhh, p.G * DH);
    ck_assert_msg(eb <= TOL_GRADCHECK, "dbhh: relative error %g", eb);
    if (lstm) {
        const double ec = tu_fd_block(loss, &p, p.c0, B, DH, DH, g.dc0, DH);
        ck_assert_msg(ec <= TOL_GRADCHECK, "dc0: relative error %g", ec);
    }
    prob_free(&p);
}
END_TEST

/* A sequence cut in two calls, (h(T1), c(T1)) carried into the second
 * call's (h0, c0), gives the whole sequence's h. */
START_TEST(carried_state_is_the_whole_sequence)
{
    enum { T1 = 2 };
    static prob p;
    static double whole[T * B * DH], part[T * B * DH], cT[B * DH];
    prob_make(&p, BPTT_CELL_LSTM, 101);
    ck_assert_int_eq(bptt_elman_workspace_set_gated_bias(p.ws, p.bhh, NULL),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, p.c0, DH, NULL,
                                                         0, NULL, 0),
                     BPTT_OK);
    ck_assert_int_eq(elman_fwd(&p, T, p.x, p.h0, NULL, NULL, whole,
                               BPTT_ALGO_DEFERRED), BPTT_OK);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, p.c0, DH, cT,
                                                         DH, NULL, 0),
                     BPTT_OK);
    ck_assert_int_eq(elman_fwd(&p, T1, p.x, p.h0, NULL, NULL, part,
                               BPTT_ALGO_DEFERRED), BPTT_OK);
    static double c1[B * DH];
    memcpy(c1, cT, sizeof c1);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, c1, DH, NULL,
                                                         0, NULL, 0),
                     BPTT_OK);
    ck_assert_int_eq(elman_fwd(&p, T - T1, p.x + T1 * B * DIN,
                               part + (T1 - 1) * B * DH, NULL, NULL,
                               part + T1 * B * DH, BPTT_ALGO_DEFERRED),
                     BPTT_OK);
    ck_assert_double_le(tu_relerr(1, T * B * DH, part, 0, whole, 0),
                        TOL_REFERENCE);
    prob_free(&p);
}
END_TEST

START_TEST(traps)
{
    static prob p, v;
    static double cT[B * DH], dc0[B * DH], h[T * B * DH], dbhh[GMAX * DH];
    static double dWo[NOUT * DH], dW[GMAX * DH * M];
    prob_make(&p, BPTT_CELL_GRU, 111);
    /* a vanilla-core Elman: its bias is bh, it has no cell state */
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DH, BPTT_ACT_TANH, NULL,
                                             &v.net), BPTT_OK);
    ck_assert_int_eq(bptt_elman_create(v.net, NOUT, BPTT_HEAD_LINEAR, &v.el),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_workspace_alloc(v.el, T, B, &v.ws), BPTT_OK);
    ck_assert_int_eq(bptt_elman_workspace_set_gated_bias(NULL, p.bhh, NULL),
                     BPTT_ENULL);
    ck_assert_int_eq(bptt_elman_workspace_set_gated_bias(v.ws, p.bhh, NULL),
                     BPTT_EINVAL);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(NULL, p.c0, DH, NULL,
                                                         0, NULL, 0),
                     BPTT_ENULL);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(v.ws, p.c0, DH, NULL,
                                                         0, NULL, 0),
                     BPTT_EINVAL);
    /* a GRU has no cell state; all NULL is allowed (switches it off) */
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, p.c0, DH, NULL,
                                                         0, NULL, 0),
                     BPTT_EINVAL);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, NULL, 0, NULL,
                                                         0, NULL, 0),
                     BPTT_OK);
    prob_free(&p);

    prob_make(&p, BPTT_CELL_LSTM, 112);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, p.c0, DH - 1,
                                                         NULL, 0, NULL, 0),
                     BPTT_ELD);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, NULL, 0, cT,
                                                         DH - 1, NULL, 0),
                     BPTT_ELD);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, NULL, 0, NULL,
                                                         0, dc0, 1),
                     BPTT_ELD);
    /* a refused setting changed nothing: the forward runs from c(0) = 0
     * and writes no cT */
    for (size_t i = 0; i < B * DH; i++)
        cT[i] = -5;
    ck_assert_int_eq(elman_fwd(&p, T, p.x, p.h0, NULL, NULL, h,
                               BPTT_ALGO_NAIVE), BPTT_OK);
    for (size_t i = 0; i < B * DH; i++)
        ck_assert(cT[i] == -5);
    /* overlaps the calls refuse, writing nothing: cT on the output h, c0
     * read from where the forward writes h; dbhh on dbh */
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, NULL, 0, h, DH,
                                                         NULL, 0), BPTT_OK);
    TU_REFUSED_REGION(elman_fwd(&p, T, p.x, p.h0, NULL, NULL, h,
                                BPTT_ALGO_NAIVE), BPTT_EOVERLAP, h, sizeof h);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, h, DH, NULL, 0,
                                                         NULL, 0), BPTT_OK);
    TU_REFUSED_REGION(elman_fwd(&p, T, p.x, p.h0, NULL, NULL, h,
                                BPTT_ALGO_NAIVE), BPTT_EOVERLAP, h, sizeof h);
    ck_assert_int_eq(bptt_elman_workspace_set_cell_state(p.ws, NULL, 0, NULL,
                                                         0, NULL, 0), BPTT_OK);
    ck_assert_int_eq(elman_fwd(&p, T, p.x, p.h0, p.L, NULL, h,
                               BPTT_ALGO_NAIVE), BPTT_OK);
    ck_assert_int_eq(bptt_elman_workspace_set_gated_bias(p.ws, NULL, dbhh),
                     BPTT_OK);
    TU_REFUSED_REGION(bptt_elman_backward(p.el, T, B, p.W, M, p.Wo, DH, NULL,
                                          p.L, NOUT, 0, dW, M, dbhh, dWo,
                                          DH, NULL, NULL, 0, NULL, 0,
                                          BPTT_ALGO_NAIVE, p.ws),
                      BPTT_EOVERLAP, dbhh, sizeof dbhh);
    prob_free(&p);
    prob_free(&v);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("elman_gated");
    TCase *tc = tcase_create("options");
    tcase_add_loop_test(tc, against_the_cell_and_the_head, 0, 4);
    tcase_add_loop_test(tc, gradcheck_new_blocks, 0, 2);
    tcase_add_test(tc, carried_state_is_the_whole_sequence);
    tcase_add_test(tc, traps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
