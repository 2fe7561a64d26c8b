/*
 * Network B on par with A: the Elman workspace's non-finite check refuses
 * a NaN or Inf input of the head or the core with nothing written and
 * passes finite calls unchanged; its error-flow recording gives, at the
 * last step, ‖Woᵀ(y_T − l_T)‖ computed here.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { DIN = 3, DH = 4, NOUT = 2, T = 3, B = 2, TB = T * B };

typedef struct prob {
    bptt_net *net;
    bptt_elman *el;
    bptt_elman_workspace *ws;
    double *W, *bh, *Wo, *bo, *x, *L;
} prob;

static prob prob_new(bptt_head head)
{
    prob p;
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DH, BPTT_ACT_TANH, NULL,
                                             &p.net), BPTT_OK);
    ck_assert_int_eq(bptt_elman_create(p.net, NOUT, head, &p.el), BPTT_OK);
    ck_assert_int_eq(bptt_elman_workspace_alloc(p.el, T, B, &p.ws), BPTT_OK);
    tu_rng r = {17};
    p.W = tu_random(DH * (DIN + DH), 0.5, &r);
    p.bh = tu_random(DH, 0.5, &r);
    p.Wo = tu_random(NOUT * DH, 0.5, &r);
    p.bo = tu_random(NOUT, 0.5, &r);
    p.x = tu_random(TB * DIN, 1, &r);
    p.L = tu_random(TB * NOUT, 1, &r);
    for (int i = 0; i < TB * NOUT; i++)
        p.L[i] = fabs(p.L[i]);
    return p;
}

static void prob_free(prob *p)
{
    free(p->W);
    free(p->bh);
    free(p->Wo);
    free(p->bo);
    free(p->x);
    free(p->L);
    bptt_elman_workspace_free(p->ws);
    bptt_elman_free(p->el);
    bptt_net_free(p->net);
}

static bptt_status fwd(prob *p, double *E, double *h, double *y)
{
    return bptt_elman_forward(p->el, T, B, p->W, DIN + DH, p->bh, p->Wo, DH,
                              p->bo, p->x, DIN, NULL, DH, NULL, p->L, NOUT, E,
                              h, DH, y, NOUT, BPTT_ALGO_AUTO, p->ws);
}

static bptt_status bwd(prob *p, double *dW, double *dWo, double *dbo)
{
    return bptt_elman_backward(p->el, T, B, p->W, DIN + DH, p->Wo, DH, NULL,
                               p->L, NOUT, 0, dW, DIN + DH, NULL, dWo, DH, dbo,
                               NULL, 0, NULL, 0, BPTT_ALGO_AUTO, p->ws);
}

START_TEST(nonfinite_inputs_are_refused)
{
    prob p = prob_new(BPTT_HEAD_SOFTMAX);
    double E = 0, h[TB * DH], y[TB * NOUT];
    double dW[DH * (DIN + DH)], dWo[NOUT * DH], dbo[NOUT];
    ck_assert_int_eq(bptt_elman_workspace_check_finite(p.ws, 1), BPTT_OK);
    ck_assert_int_eq(fwd(&p, &E, h, y), BPTT_OK);
    ck_assert_int_eq(bwd(&p, dW, dWo, dbo), BPTT_OK);
    tu_snap s = {0};
    tu_snap_add(&s, &E, sizeof E);
    tu_snap_add(&s, h, sizeof h);
    tu_snap_add(&s, y, sizeof y);
    tu_snap_add(&s, dW, sizeof dW);
    tu_snap_add(&s, dWo, sizeof dWo);
    tu_snap_add(&s, dbo, sizeof dbo);
    /* the head's inputs */
    p.Wo[3] = NAN;
    TU_REFUSED(fwd(&p, &E, h, y), BPTT_ENONFINITE, &s);
    ck_assert_msg(strstr(bptt_error_detail(), "Wo[0][3] is NaN"), "%s",
                  bptt_error_detail());
    TU_REFUSED(bwd(&p, dW, dWo, dbo), BPTT_ENONFINITE, &s);
    p.Wo[3] = 0.25;
    p.bo[1] = -INFINITY;
    TU_REFUSED(fwd(&p, &E, h, y), BPTT_ENONFINITE, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "bo[0][1] is -Inf"));
    p.bo[1] = 0;
    /* the core's: W before the head writes in backward, x in forward */
    p.W[2] = INFINITY;
    TU_REFUSED(bwd(&p, dW, dWo, dbo), BPTT_ENONFINITE, &s);
    TU_REFUSED(fwd(&p, &E, h, y), BPTT_ENONFINITE, &s);
    p.W[2] = 0.1;
    p.x[DIN * B + 1] = NAN; /* x(1) of sequence 0 */
    TU_REFUSED(fwd(&p, &E, h, y), BPTT_ENONFINITE, &s);
    ck_assert_ptr_nonnull(strstr(bptt_error_detail(), "x(1) of sequence 0"));
    tu_snap_free(&s);
    /* off: the NaN goes through */
    ck_assert_int_eq(bptt_elman_workspace_check_finite(p.ws, 0), BPTT_OK);
    ck_assert_int_eq(fwd(&p, &E, h, y), BPTT_OK);
    ck_assert(isnan(E));
    TU_REFUSED(bptt_elman_workspace_check_finite(NULL, 1), BPTT_ENULL, NULL);
    TU_REFUSED(bpttf_elman_workspace_check_finite(NULL, 1), BPTT_ENULL, NULL);
    prob_free(&p);
}
END_TEST

START_TEST(finite_calls_are_unchanged)
{
    prob p = prob_new(BPTT_HEAD_LINEAR), q = prob_new(BPTT_HEAD_LINEAR);
    bptt_elman_workspace_check_finite(p.ws, 1);
    double E1, E2, y1[TB * NOUT], y2[TB * NOUT];
    double dW1[DH * (DIN + DH)], dWo1[NOUT * DH], dbo1[NOUT];
    double dW2[DH * (DIN + DH)], dWo2[NOUT * DH], dbo2[NOUT];
    ck_assert_int_eq(fwd(&p, &E1, NULL, y1), BPTT_OK);
    ck_assert_int_eq(fwd(&q, &E2, NULL, y2), BPTT_OK);
    ck_assert(E1 == E2);
    ck_assert_mem_eq(y1, y2, sizeof y1);
    ck_assert_int_eq(bwd(&p, dW1, dWo1, dbo1), BPTT_OK);
    ck_assert_int_eq(bwd(&q, dW2, dWo2, dbo2), BPTT_OK);
    ck_assert_mem_eq(dW1, dW2, sizeof dW1);
    ck_assert_mem_eq(dWo1, dWo2, sizeof dWo1);
    ck_assert_mem_eq(dbo1, dbo2, sizeof dbo1);
    prob_free(&p);
    prob_free(&q);
}
END_TEST

START_TEST(flow_at_the_last_step)
{
    prob p = prob_new(BPTT_HEAD_LINEAR);
    double g[TB], d[TB], E, y[TB * NOUT];
    double dW[DH * (DIN + DH)], dWo[NOUT * DH];
    ck_assert_int_eq(bptt_elman_workspace_record_flow(p.ws, g, d), BPTT_OK);
    ck_assert_int_eq(fwd(&p, &E, NULL, y), BPTT_OK);
    ck_assert_int_eq(bwd(&p, dW, dWo, NULL), BPTT_OK);
    for (int b = 0; b < B; b++) {
        const int row = (T - 1) * B + b;
        double s = 0;
        for (int j = 0; j < DH; j++) {
            double v = 0; /* (Woᵀ (y − l))_j */
            for (int k = 0; k < NOUT; k++)
                v += p.Wo[k * DH + j] *
                     (y[row * NOUT + k] - p.L[row * NOUT + k]);
            s += v * v;
        }
        ck_assert_double_le(fabs(g[row] - sqrt(s)), 1e-14 * sqrt(s));
        ck_assert_double_le(d[row], g[row]); /* |tanh'| <= 1 */
        ck_assert(d[row] > 0);
    }
    ck_assert_int_eq(bptt_elman_workspace_record_flow(p.ws, NULL, NULL),
                     BPTT_OK);
    TU_REFUSED(bptt_elman_workspace_record_flow(NULL, g, d), BPTT_ENULL, NULL);
    TU_REFUSED(bpttf_elman_workspace_record_flow(NULL, g, d), BPTT_ENULL,
               NULL);
    prob_free(&p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("elman_finite");
    TCase *tc = tcase_create("elman_finite");
    tcase_add_test(tc, nonfinite_inputs_are_refused);
    tcase_add_test(tc, finite_calls_are_unchanged);
    tcase_add_test(tc, flow_at_the_last_step);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
