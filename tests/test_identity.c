/*
 * Identity tests: exact algebraic facts about the gradient and the API —
 * the T = 1 closed form, accumulate/overwrite (beta), linearity in dL/dy,
 * chunked sequences, the caller's buffer, the size formula, the loss and
 * its mask, and SGD lowering the loss.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const bptt_algo algos[] = {BPTT_ALGO_NAIVE, BPTT_ALGO_GEMV_GER,
                                  BPTT_ALGO_DEFERRED};
#define NALGOS 3

/* T = 1: dL/dW = ((y(1) − ŷ(1)) ⊙ f'(z(1))) s(0)ᵀ, f' computed here. */
START_TEST(single_step_closed_form)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(4, 6), 1, 1, 1,
                                   TU_Y0 | TU_BIAS, 21);
    tu_grads g = {0};
    ck_assert_int_eq(tu_gradients(p, algos[_i], &g), BPTT_OK);
    const size_t din = p->din, dout = p->dout;
    double s[10];
    for (size_t j = 0; j < din; j++)
        s[j] = p->x[j];
    for (size_t j = 0; j < dout; j++)
        s[din + j] = p->y0[j];
    for (size_t k = 0; k < dout; k++) {
        double z = p->b[k];
        for (size_t j = 0; j < din + dout; j++)
            z += p->W[k * p->ldw + j] * s[j];
        double fp;
        switch (bptt_net_activation(p->net, k)) {
        case BPTT_ACT_IDENTITY: fp = 1; break;
        case BPTT_ACT_TANH: fp = 1 - tanh(z) * tanh(z); break;
        case BPTT_ACT_LOGISTIC: fp = exp(-z) / ((1 + exp(-z)) * (1 + exp(-z))); break;
        case BPTT_ACT_RELU: fp = z > 0; break;
        case BPTT_ACT_SOFTPLUS: fp = 1 / (1 + exp(-z)); break;
        default: fp = 0.75 * cos(z); break; /* testutil's custom: 0.75 sin */
        }
        double delta = (g.y[k] - p->target[k]) * fp;
        for (size_t j = 0; j < din + dout; j++)
            ck_assert_double_eq_tol(g.dW[k * p->ldw + j], delta * s[j],
                                    1e-14 * (1 + fabs(delta * s[j])));
        ck_assert_double_eq_tol(g.db[k], delta, 1e-14);
    }
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* Every unit's f and f' as written in the test (tu_activation), against
 * the library's, for T = 1: y(1) = f(z) and dL/db = (y − ŷ) ⊙ f'(z).  Two
 * layouts of 300 units (more than one gather chunk): interleaved kinds
 * (the grouped path) and long runs of each kind (the run path). */
START_TEST(activations_match_their_formulas)
{
    static const bptt_activation kinds[5] = {
        BPTT_ACT_IDENTITY, BPTT_ACT_TANH, BPTT_ACT_LOGISTIC, BPTT_ACT_RELU,
        BPTT_ACT_SOFTPLUS};
    enum { DIN = 2, DOUT = 300 };
    bptt_activation act[DOUT];
    for (size_t i = 0; i < DOUT; i++)
        act[i] = _i == 0 ? kinds[i % 5] : kinds[i / 60];
    bptt_net *net;
    ck_assert_int_eq(bptt_net_create(DIN, DOUT, act, NULL, &net), BPTT_OK);
    tu_problem *p = tu_problem_new(net, 1, 1, 0, TU_BIAS, 23);
    /* pre-activations over [-6, 6], past every kink and saturation */
    for (size_t i = 0; i < DOUT; i++)
        p->b[i] = -6 + 12.0 * (double)i / (DOUT - 1);
    tu_grads g = {0};
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_AUTO, &g), BPTT_OK);
    for (size_t k = 0; k < DOUT; k++) {
        double z = p->b[k];
        for (size_t j = 0; j < DIN; j++)
            z += p->W[k * p->ldw + j] * p->x[j];
        double fp, f = tu_activation(act[k], z, &fp);
        ck_assert_msg(fabs(g.y[k] - f) <= 4e-15 * fmax(1, fabs(f)),
                      "unit %zu (%s): y %.17g, f %.17g", k,
                      bptt_activation_name(act[k]), g.y[k], f);
        double want = (g.y[k] - p->target[k]) * fp;
        ck_assert_msg(fabs(g.db[k] - want) <= 4e-15 * fmax(1, fabs(want)),
                      "unit %zu (%s): db %.17g, want %.17g", k,
                      bptt_activation_name(act[k]), g.db[k], want);
    }
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* One forward, then backward with dy and the given beta onto dW0 etc. */
typedef struct run {
    tu_problem *p;
    bptt_workspace *ws;
    double *dy;
} run;

static run run_new(size_t T, size_t B, unsigned long long seed)
{
    run r;
    r.p = tu_problem_new(tu_mixed_net(5, 7), T, B, 2, TU_BIAS | TU_Y0, seed);
    ck_assert_int_eq(bptt_workspace_alloc(r.p->net, T, B, &r.ws), BPTT_OK);
    double *y = calloc(T * B * r.p->ldy, sizeof *y);
    ck_assert_int_eq(bptt_forward(r.p->net, T, B, r.p->W, r.p->ldw, r.p->b,
                                  r.p->x, r.p->ldx, r.p->y0, r.p->ldy0, y,
                                  r.p->ldy, BPTT_ALGO_AUTO, r.ws),
                     BPTT_OK);
    free(y);
    tu_rng g = {seed + 1};
    r.dy = tu_random(T * B * r.p->ldy, 1, &g);
    return r;
}

static void backward(run *r, const double *dy, double beta, tu_grads *g,
                     bptt_algo algo)
{
    tu_problem *p = r->p;
    ck_assert_int_eq(bptt_backward(p->net, p->T, p->B, p->W, p->ldw, dy,
                                   p->ldy, beta, g->dW, p->ldw, g->db, g->dx,
                                   p->ldx, g->dy0, p->ldy0, algo, r->ws),
                     BPTT_OK);
}

static tu_grads grads_filled(const tu_problem *p, double v)
{
    const size_t TB = p->T * p->B;
    tu_grads g = {0};
    g.dW = malloc(p->dout * p->ldw * sizeof(double));
    g.db = malloc(p->dout * sizeof(double));
    g.dx = malloc(TB * p->ldx * sizeof(double));
    g.dy0 = malloc(p->B * p->ldy0 * sizeof(double));
    for (size_t i = 0; i < p->dout * p->ldw; i++)
        g.dW[i] = v == v ? v + (double)i / 7 : v;
    for (size_t i = 0; i < p->dout; i++)
        g.db[i] = v == v ? v - (double)i : v;
    for (size_t i = 0; i < TB * p->ldx; i++)
        g.dx[i] = v == v ? v * 0.5 + (double)i / 3 : v;
    for (size_t i = 0; i < p->B * p->ldy0; i++)
        g.dy0[i] = v == v ? -v + (double)i : v;
    return g;
}

static void assert_combination(const tu_problem *p, const tu_grads *got,
                               double a, const tu_grads *u, double c,
                               const tu_grads *v, double tol)
{
    const size_t TB = p->T * p->B;
    struct {
        double *g, *u, *v;
        size_t rows, cols, ld;
    } blk[4] = {{got->dW, u->dW, v->dW, p->dout, p->m, p->ldw},
                {got->db, u->db, v->db, 1, p->dout, p->dout},
                {got->dx, u->dx, v->dx, TB, p->din, p->ldx},
                {got->dy0, u->dy0, v->dy0, p->B, p->dout, p->ldy0}};
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < blk[k].rows; i++)
            for (size_t j = 0; j < blk[k].cols; j++) {
                size_t q = i * blk[k].ld + j;
                double want = a * blk[k].u[q] + c * blk[k].v[q];
                ck_assert_msg(fabs(blk[k].g[q] - want) <= tol * (1 + fabs(want)),
                              "block %d (%zu,%zu): %.17g vs %.17g", k, i, j,
                              blk[k].g[q], want);
            }
}

/* beta = 0 ignores (even NaN) contents; beta = 1 adds; beta = 2 scales. */
START_TEST(beta_overwrite_accumulate_scale)
{
    run r = run_new(8, 2, 31);
    tu_grads fresh = grads_filled(r.p, NAN);
    backward(&r, r.dy, 0.0, &fresh, algos[_i]);
    const double betas[] = {1.0, 2.0, -0.5};
    for (int k = 0; k < 3; k++) {
        tu_grads old = grads_filled(r.p, 3.0), acc = grads_filled(r.p, 3.0);
        backward(&r, r.dy, betas[k], &acc, algos[_i]);
        assert_combination(r.p, &acc, betas[k], &old, 1.0, &fresh, 1e-13);
        tu_grads_free(&old);
        tu_grads_free(&acc);
    }
    tu_grads_free(&fresh);
    bptt_workspace_free(r.ws);
    free(r.dy);
    tu_problem_free(r.p);
}
END_TEST

/* The gradient is linear in dL/dy: g(a·u + c·v) = a·g(u) + c·g(v). */
START_TEST(linear_in_dy)
{
    run r = run_new(10, 3, 41);
    const size_t n = r.p->T * r.p->B * r.p->ldy;
    tu_rng rng = {5};
    double *v = tu_random(n, 1, &rng), *mix = malloc(n * sizeof *mix);
    const double a = 0.7, c = -1.3;
    for (size_t i = 0; i < n; i++)
        mix[i] = a * r.dy[i] + c * v[i];
    tu_grads gu = grads_filled(r.p, 0), gv = grads_filled(r.p, 0),
             gm = grads_filled(r.p, 0);
    backward(&r, r.dy, 0.0, &gu, algos[_i]);
    backward(&r, v, 0.0, &gv, algos[_i]);
    backward(&r, mix, 0.0, &gm, algos[_i]);
    assert_combination(r.p, &gm, a, &gu, c, &gv, 1e-12);
    tu_grads_free(&gu), tu_grads_free(&gv), tu_grads_free(&gm);
    free(v), free(mix), free(r.dy);
    bptt_workspace_free(r.ws);
    tu_problem_free(r.p);
}
END_TEST

/* Running T steps in two chunks, the second starting from the first's
 * final state y(T1), gives the same outputs as one run. */
START_TEST(chunks_continue_the_state)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(3, 5), 12, 2, 1, TU_BIAS | TU_Y0, 51);
    const size_t B = p->B, T1 = 5, T2 = 7, TB = p->T * B;
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, p->T, B, &ws), BPTT_OK);
    double *whole = calloc(TB * p->ldy, sizeof(double));
    double *parts = calloc(TB * p->ldy, sizeof(double));
    ck_assert_int_eq(bptt_forward(p->net, p->T, B, p->W, p->ldw, p->b, p->x,
                                  p->ldx, p->y0, p->ldy0, whole, p->ldy,
                                  BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_int_eq(bptt_forward(p->net, T1, B, p->W, p->ldw, p->b, p->x,
                                  p->ldx, p->y0, p->ldy0, parts, p->ldy,
                                  BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_int_eq(bptt_forward(p->net, T2, B, p->W, p->ldw, p->b,
                                  p->x + T1 * B * p->ldx, p->ldx,
                                  parts + (T1 - 1) * B * p->ldy, p->ldy,
                                  parts + T1 * B * p->ldy, p->ldy,
                                  BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert(memcmp(whole, parts, TB * p->ldy * sizeof(double)) == 0);
    free(whole), free(parts);
    bptt_workspace_free(ws);
    tu_problem_free(p);
}
END_TEST

/* A workspace in the caller's (misaligned) buffer gives bitwise the same
 * gradients as an allocated one, and the size follows the documented
 * formula. */
START_TEST(caller_buffer_and_size_formula)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(6, 4), 9, 3, 0, TU_BIAS, 61);
    size_t bytes;
    ck_assert_int_eq(bptt_workspace_size(p->net, 9, 3, &bytes), BPTT_OK);
#define UP(n) (((n) + 63) / 64 * 64)
    size_t want = 256 + UP(8 * 27 * 10) + 2 * UP(8 * 27 * 4) + 8 * 4 * 16 +
                  UP(8 * 27 * (16 + 4));
    ck_assert_uint_eq(bytes, want);
    ck_assert_int_eq(bpttf_workspace_size(p->net, 9, 3, &bytes), BPTT_OK);
    want = 256 + UP(4 * 27 * 10) + 2 * UP(4 * 27 * 4) + 4 * 4 * 32 + UP(4 * 27 * (32 + 4));
    ck_assert_uint_eq(bytes, want);
    ck_assert_int_eq(bptt_workspace_size(p->net, 9, 3, &bytes), BPTT_OK);

    unsigned char *buf = malloc(bytes + 3);
    bptt_workspace *mine, *lib;
    ck_assert_int_eq(bptt_workspace_init(p->net, 9, 3, buf + 3, bytes, &mine), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_alloc(p->net, 9, 3, &lib), BPTT_OK);
    double *y = calloc(27 * p->ldy, 8), *dy = calloc(27 * p->ldy, 8);
    double *g1 = calloc(4 * p->ldw, 8), *g2 = calloc(4 * p->ldw, 8);
    bptt_workspace *w[2] = {mine, lib};
    double *g[2] = {g1, g2};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(bptt_forward(p->net, 9, 3, p->W, p->ldw, p->b, p->x,
                                      p->ldx, NULL, 0, y, p->ldy,
                                      BPTT_ALGO_AUTO, w[k]), BPTT_OK);
        for (size_t i = 0; i < 27 * p->ldy; i++)
            dy[i] = y[i];
        ck_assert_int_eq(bptt_backward(p->net, 9, 3, p->W, p->ldw, dy, p->ldy,
                                       0.0, g[k], p->ldw, NULL, NULL, 0, NULL,
                                       0, BPTT_ALGO_AUTO, w[k]), BPTT_OK);
    }
    ck_assert(memcmp(g1, g2, 4 * p->ldw * 8) == 0);
    bptt_workspace_free(mine); /* frees nothing: the buffer is ours */
    bptt_workspace_free(lib);
    free(buf), free(y), free(dy), free(g1), free(g2);
    tu_problem_free(p);
}
END_TEST

/* The loss helper: eq. (1)-(3) with a mask, against a direct sum. */
START_TEST(loss_and_mask)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(2, 3), 6, 2, 1, TU_MASK, 71);
    const size_t TB = 12, ld = p->ldy;
    tu_rng r = {3};
    double *y = tu_random(TB * ld, 1, &r), *dy = malloc(TB * ld * 8);
    double loss, want = 0;
    ck_assert_int_eq(bptt_loss_squared(6, 2, 3, y, ld, p->target, ld, p->mask,
                                       &loss, dy, ld), BPTT_OK);
    for (size_t k = 0; k < TB; k++)
        for (size_t i = 0; i < 3; i++) {
            double e = y[k * ld + i] - p->target[k * ld + i];
            want += p->mask[k] ? 0.5 * e * e : 0;
            ck_assert(dy[k * ld + i] == (p->mask[k] ? e : 0.0));
        }
    ck_assert_double_eq_tol(loss, want, 1e-15 * want);
    free(y), free(dy);
    tu_problem_free(p);
}
END_TEST

/* A few SGD steps (eq. 13) with a small rate lower the loss. */
START_TEST(sgd_lowers_loss)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(3, 6), 15, 2, 1, TU_BIAS | TU_Y0, 81);
    double before = tu_loss(p), prev = before;
    for (int step = 0; step < 5; step++) {
        tu_grads g = {0};
        ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_AUTO, &g), BPTT_OK);
        ck_assert_int_eq(bptt_sgd_step(p->dout, p->m, 0.01, g.dW, p->ldw, p->W, p->ldw), BPTT_OK);
        ck_assert_int_eq(bptt_sgd_step(1, p->dout, 0.01, g.db, p->dout, p->b, p->dout), BPTT_OK);
        tu_grads_free(&g);
        double now = tu_loss(p);
        ck_assert_msg(now < prev, "step %d: loss %g -> %g", step, prev, now);
        prev = now;
    }
    ck_assert(prev < before);
    tu_problem_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("identity");
    TCase *tc = tcase_create("identities");
    tcase_add_loop_test(tc, single_step_closed_form, 0, NALGOS);
    tcase_add_loop_test(tc, beta_overwrite_accumulate_scale, 0, NALGOS);
    tcase_add_loop_test(tc, linear_in_dy, 0, NALGOS);
    tcase_add_loop_test(tc, activations_match_their_formulas, 0, 2);
    tcase_add_test(tc, chunks_continue_the_state);
    tcase_add_test(tc, caller_buffer_and_size_formula);
    tcase_add_test(tc, loss_and_mask);
    tcase_add_test(tc, sgd_lowers_loss);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
