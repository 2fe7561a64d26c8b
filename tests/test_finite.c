/*
 * Non-finite check tests (bptt_workspace_check_finite): off by default; on,
 * a NaN or ±Inf input is refused with BPTT_ENONFINITE, nothing written and
 * a detail naming array, step, sequence and element exactly; a result that
 * overflows is reported with the outputs holding it; padding is not
 * scanned; a NaN born inside forward (ReLU of Inf − Inf) reaches y.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { DIN = 3, DOUT = 4, T = 5, B = 2, PAD = 1 };

static const bptt_algo algos[] = {BPTT_ALGO_NAIVE, BPTT_ALGO_GEMV_GER,
                                  BPTT_ALGO_DEFERRED};
#define NALGOS (sizeof algos / sizeof algos[0])

/* A problem, its outputs and a workspace in our own buffer (so that its
 * bytes can be compared), with the check on. */
typedef struct fix {
    tu_problem *p;
    unsigned char *buf;
    size_t bytes;
    bptt_workspace *ws;
    double *y, *dy, *dW, *db, *dx, *dy0;
} fix;

static fix fix_new(void)
{
    fix f;
    f.p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, PAD, TU_BIAS | TU_Y0, 7);
    const tu_problem *p = f.p;
    ck_assert_int_eq(bptt_workspace_size(p->net, T, B, &f.bytes), BPTT_OK);
    f.buf = malloc(f.bytes);
    memset(f.buf, 0, f.bytes);
    ck_assert_int_eq(bptt_workspace_init(p->net, T, B, f.buf, f.bytes, &f.ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_workspace_check_finite(f.ws, 1), BPTT_OK);
    tu_rng r = {8};
    f.y = calloc(T * B * p->ldy, sizeof(double));
    f.dy = tu_random(T * B * p->ldy, 1, &r);
    f.dW = tu_random(DOUT * p->ldw, 1, &r);
    f.db = tu_random(DOUT, 1, &r);
    f.dx = tu_random(T * B * p->ldx, 1, &r);
    f.dy0 = tu_random(B * p->ldy0, 1, &r);
    return f;
}

static void fix_free(fix *f)
{
    tu_problem_free(f->p);
    free(f->buf), free(f->y), free(f->dy), free(f->dW), free(f->db);
    free(f->dx), free(f->dy0);
}

static bptt_status fwd(fix *f, bptt_algo algo)
{
    const tu_problem *p = f->p;
    return bptt_forward(p->net, T, B, p->W, p->ldw, p->b, p->x, p->ldx, p->y0,
                        p->ldy0, f->y, p->ldy, algo, f->ws);
}

static bptt_status bwd(fix *f, double beta, bptt_algo algo)
{
    const tu_problem *p = f->p;
    return bptt_backward(p->net, T, B, p->W, p->ldw, f->dy, p->ldy, beta,
                         f->dW, p->ldw, f->db, f->dx, p->ldx, f->dy0, p->ldy0,
                         algo, f->ws);
}

/* Every buffer a call may touch. */
static void snap_all(tu_snap *s, const fix *f)
{
    const tu_problem *p = f->p;
    const size_t TB = T * B, r = sizeof(double);
    tu_snap_add(s, p->W, DOUT * p->ldw * r);
    tu_snap_add(s, p->b, DOUT * r);
    tu_snap_add(s, p->x, TB * p->ldx * r);
    tu_snap_add(s, p->y0, B * p->ldy0 * r);
    tu_snap_add(s, f->y, TB * p->ldy * r);
    tu_snap_add(s, f->dy, TB * p->ldy * r);
    tu_snap_add(s, f->dW, DOUT * p->ldw * r);
    tu_snap_add(s, f->db, DOUT * r);
    tu_snap_add(s, f->dx, TB * p->ldx * r);
    tu_snap_add(s, f->dy0, B * p->ldy0 * r);
    tu_snap_add(s, f->buf, f->bytes);
}

static void assert_refused(bptt_status st, const tu_snap *s, const char *detail)
{
    tu_assert_refused(st, BPTT_ENONFINITE, s, detail);
    ck_assert_str_eq(bptt_error_detail(), detail);
}

START_TEST(off_by_default)
{
    fix f = fix_new();
    ck_assert_int_eq(bptt_workspace_check_finite(f.ws, 0), BPTT_OK);
    f.p->x[0] = NAN;
    ck_assert_int_eq(fwd(&f, algos[_i]), BPTT_OK);
    ck_assert(isnan(f.y[0])); /* y(1) of sequence 0 depends on x(0) */
    ck_assert_int_eq(bptt_workspace_check_finite(NULL, 1), BPTT_ENULL);
    ck_assert_int_eq(bpttf_workspace_check_finite(NULL, 1), BPTT_ENULL);
    ck_assert_str_eq(bptt_strerror(BPTT_ENONFINITE), "a value is NaN or infinite");
    fix_free(&f);
}
END_TEST

/* One bad input element at a time: refused, nothing written, named. */
START_TEST(forward_inputs_refused_and_named)
{
    const bptt_algo algo = algos[_i];
    struct {
        int array; /* 0 W, 1 b, 2 y0, 3 x */
        size_t row, col;
        double v;
        const char *detail;
    } c[] = {
        {0, 2, 5, INFINITY, "bptt_forward: W[2][5] is +Inf"},
        {0, 0, 0, -INFINITY, "bptt_forward: W[0][0] is -Inf"},
        {1, 0, 3, NAN, "bptt_forward: b[3] is NaN"},
        {2, 1, 2, -INFINITY, "bptt_forward: y0 of sequence 1, element 2, is -Inf"},
        /* row t*B + b of x is x(t) of sequence b */
        {3, 3 * B + 1, 0, NAN, "bptt_forward: x(3) of sequence 1, element 0, is NaN"},
        {3, 0, 2, INFINITY, "bptt_forward: x(0) of sequence 0, element 2, is +Inf"},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        fix f = fix_new();
        tu_problem *p = f.p;
        double *a[] = {p->W, p->b, p->y0, p->x};
        size_t ld[] = {p->ldw, DOUT, p->ldy0, p->ldx};
        a[c[k].array][c[k].row * ld[c[k].array] + c[k].col] = c[k].v;
        if (c[k].array == 3) /* a later bad x is not the one named */
            p->x[(4 * B + 1) * p->ldx] = NAN;
        tu_snap s = {0};
        snap_all(&s, &f);
        assert_refused(fwd(&f, algo), &s, c[k].detail);
        /* refused: no forward was kept */
        ck_assert_int_eq(bwd(&f, 0, algo), BPTT_ENOFORWARD);
        tu_snap_free(&s);
        fix_free(&f);
    }
}
END_TEST

/* Only the rows x cols block is scanned: NaN in the padding is allowed. */
START_TEST(padding_is_not_scanned)
{
    fix f = fix_new();
    tu_problem *p = f.p;
    p->W[DIN + DOUT] = NAN; /* row 0, the column past m */
    p->x[DIN] = INFINITY;
    p->y0[DOUT] = NAN;
    f.dy[DOUT] = NAN;
    ck_assert_int_eq(fwd(&f, algos[_i]), BPTT_OK);
    ck_assert_int_eq(bwd(&f, 0, algos[_i]), BPTT_OK);
    fix_free(&f);
}
END_TEST

/* Finite but huge weights overflow inside forward: the result scan names
 * the first step, the outputs hold the Inf, and backward may follow. */
START_TEST(forward_result_overflow_reported)
{
    const bptt_algo algo = algos[_i];
    bptt_net *net;
    ck_assert_int_eq(bptt_net_create_uniform(1, 2, BPTT_ACT_IDENTITY, NULL, &net),
                     BPTT_OK);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(net, 3, 1, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_check_finite(ws, 1), BPTT_OK);
    /* y(1) = (1e300, 0); y(2)_0 = 1e300 + 1e10·1e300 = +Inf */
    const double W[2 * 3] = {1e300, 1e10, 0, 0, 0, 0};
    const double x[3] = {1, 1, 1};
    double y[3 * 2], dy[3 * 2] = {1, 1, 1, 1, 1, 1}, dW[2 * 3];
    ck_assert_int_eq(bptt_forward(net, 3, 1, W, 3, NULL, x, 1, NULL, 0, y, 2,
                                  algo, ws), BPTT_ENONFINITE);
    ck_assert_str_eq(bptt_error_detail(),
                     "bptt_forward: y(2) of sequence 0, element 0, is +Inf");
    ck_assert(y[0] == 1e300 && y[2] == INFINITY); /* outputs were written */
    ck_assert_int_eq(bptt_backward(net, 3, 1, W, 3, dy, 2, 0, dW, 3, NULL, NULL,
                                   0, NULL, 0, algo, ws), BPTT_ENONFINITE);
    ck_assert(strncmp(bptt_error_detail(), "bptt_backward: dW[", 18) == 0);
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

/* A NaN born inside forward: units 0 and 2 (identity) overflow to +Inf at
 * step 1, unit 1 (ReLU) takes their difference at step 2, Inf − Inf = NaN
 * (exact in any summation order, FMA or not).  ReLU carries the NaN to y
 * (max(NaN, 0) = 0 would hide it from the caller and from the check). */
START_TEST(relu_of_nan_is_nan)
{
    const bptt_algo algo = algos[_i];
    const bptt_activation act[3] = {BPTT_ACT_IDENTITY, BPTT_ACT_RELU,
                                    BPTT_ACT_IDENTITY};
    bptt_net *net;
    ck_assert_int_eq(bptt_net_create(1, 3, act, NULL, &net), BPTT_OK);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(net, 2, 1, &ws), BPTT_OK);
    /* columns: x, y_0, y_1, y_2 */
    const double W[3 * 4] = {DBL_MAX, 0, 0, 0,
                             0, 1, 0, -1,
                             DBL_MAX, 0, 0, 0};
    const double x[2] = {2, 0};
    double y[2 * 3] = {0};
    ck_assert_int_eq(bptt_forward(net, 2, 1, W, 4, NULL, x, 1, NULL, 0, y, 3,
                                  algo, ws), BPTT_OK);
    ck_assert(y[0] == INFINITY && y[1] == 0 && y[2] == INFINITY);
    ck_assert(isnan(y[3 + 1])); /* y_1(2) = relu(Inf − Inf) */
    ck_assert_int_eq(bptt_workspace_check_finite(ws, 1), BPTT_OK);
    ck_assert_int_eq(bptt_forward(net, 2, 1, W, 4, NULL, x, 1, NULL, 0, y, 3,
                                  algo, ws), BPTT_ENONFINITE);
    ck_assert_str_eq(bptt_error_detail(),
                     "bptt_forward: y(1) of sequence 0, element 0, is +Inf");
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

/* backward refuses bad dy (named in the order it consumes them: the last
 * step first) and W, writing nothing. */
START_TEST(backward_inputs_refused_and_named)
{
    const bptt_algo algo = algos[_i];
    fix f = fix_new();
    ck_assert_int_eq(fwd(&f, algo), BPTT_OK);
    /* row t*B + b of dy is dL/dy(t+1) */
    f.dy[(1 * B + 1) * f.p->ldy + 1] = NAN;
    f.dy[(3 * B + 0) * f.p->ldy + 2] = -INFINITY;
    tu_snap s = {0};
    snap_all(&s, &f);
    assert_refused(bwd(&f, 1, algo), &s,
                   "bptt_backward: dy(4) of sequence 0, element 2, is -Inf");
    tu_snap_free(&s);
    fix_free(&f);

    /* W: a forward without the check accepted it, backward with it refuses */
    f = fix_new();
    ck_assert_int_eq(bptt_workspace_check_finite(f.ws, 0), BPTT_OK);
    f.p->W[1 * f.p->ldw + 6] = NAN;
    ck_assert_int_eq(fwd(&f, algo), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_check_finite(f.ws, 1), BPTT_OK);
    snap_all(&s, &f);
    assert_refused(bwd(&f, 0, algo), &s, "bptt_backward: W[1][6] is NaN");
    tu_snap_free(&s);
    fix_free(&f);
}
END_TEST

/* With beta != 0 the old contents are part of the result: a NaN there is
 * reported by the result scan, dx first (from the last step down). */
START_TEST(backward_results_reported)
{
    const bptt_algo algo = algos[_i];
    fix f = fix_new();
    ck_assert_int_eq(fwd(&f, algo), BPTT_OK);
    f.dW[1 * f.p->ldw + 2] = NAN;
    ck_assert_int_eq(bwd(&f, 1, algo), BPTT_ENONFINITE);
    ck_assert_str_eq(bptt_error_detail(), "bptt_backward: dW[1][2] is NaN");
    ck_assert(isfinite(f.db[0])); /* the other outputs were written */
    /* row t*B + b of dx is dL/dx(t) */
    f.dx[(1 * B + 0) * f.p->ldx + 1] = INFINITY;
    f.dx[(3 * B + 1) * f.p->ldx + 0] = NAN;
    ck_assert_int_eq(bwd(&f, 0.5, algo), BPTT_ENONFINITE);
    ck_assert_str_eq(bptt_error_detail(),
                     "bptt_backward: dx(3) of sequence 1, element 0, is NaN");
    /* beta = 0 does not read the old contents: all finite again */
    ck_assert_int_eq(bwd(&f, 0, algo), BPTT_OK);
    fix_free(&f);
}
END_TEST

START_TEST(single_precision)
{
    const bptt_algo algo = algos[_i];
    bptt_net *net = tu_mixed_net(2, 3);
    bpttf_workspace *ws;
    ck_assert_int_eq(bpttf_workspace_alloc(net, 2, 1, &ws), BPTT_OK);
    ck_assert_int_eq(bpttf_workspace_check_finite(ws, 1), BPTT_OK);
    float W[3 * 5] = {0}, x[2 * 2] = {1, 2, 3, 4}, y[2 * 3] = {0};
    float dy[2 * 3] = {1, 1, 1, 1, 1, 1}, dW[3 * 5], dx[2 * 2];
    x[3] = -INFINITY;
    ck_assert_int_eq(bpttf_forward(net, 2, 1, W, 5, NULL, x, 2, NULL, 0, y, 3,
                                   algo, ws), BPTT_ENONFINITE);
    ck_assert_str_eq(bptt_error_detail(),
                     "bpttf_forward: x(1) of sequence 0, element 1, is -Inf");
    x[3] = 4;
    W[0] = FLT_MAX; /* z = FLT_MAX·1 + FLT_MAX·... overflows in float */
    W[1] = FLT_MAX;
    ck_assert_int_eq(bpttf_forward(net, 2, 1, W, 5, NULL, x, 2, NULL, 0, y, 3,
                                   algo, ws), BPTT_ENONFINITE);
    ck_assert_str_eq(bptt_error_detail(),
                     "bpttf_forward: y(1) of sequence 0, element 0, is +Inf");
    W[0] = W[1] = 0.5f;
    ck_assert_int_eq(bpttf_forward(net, 2, 1, W, 5, NULL, x, 2, NULL, 0, y, 3,
                                   algo, ws), BPTT_OK);
    dy[4] = NAN;
    ck_assert_int_eq(bpttf_backward(net, 2, 1, W, 5, dy, 3, 0, dW, 5, NULL, dx,
                                    2, NULL, 0, algo, ws), BPTT_ENONFINITE);
    ck_assert_str_eq(bptt_error_detail(),
                     "bpttf_backward: dy(2) of sequence 0, element 1, is NaN");
    bpttf_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("finite");
    TCase *tc = tcase_create("check");
    tcase_add_loop_test(tc, off_by_default, 0, NALGOS);
    tcase_add_loop_test(tc, forward_inputs_refused_and_named, 0, NALGOS);
    tcase_add_loop_test(tc, padding_is_not_scanned, 0, NALGOS);
    tcase_add_loop_test(tc, forward_result_overflow_reported, 0, NALGOS);
    tcase_add_loop_test(tc, relu_of_nan_is_nan, 0, NALGOS);
    tcase_add_loop_test(tc, backward_inputs_refused_and_named, 0, NALGOS);
    tcase_add_loop_test(tc, backward_results_reported, 0, NALGOS);
    tcase_add_loop_test(tc, single_precision, 0, NALGOS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
