/*
 * Misuse tests (issue 15): each mistake an outside probe made silently —
 * outputs aliasing inputs, a block listed twice, a workspace kept past its
 * descriptor, a workspace shared by two calls at once, a custom activation
 * calling back into bptt — is refused with its own status, a detail naming
 * the arguments, and nothing written.  And no bptt call changes OpenBLAS's
 * thread count as another thread sees it.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { DIN = 3, DOUT = 4, M = DIN + DOUT, T = 5, B = 2, TB = T * B };

/* The detail of the last refusal names every argument in names. */
static void assert_detail_names(const char *a, const char *b)
{
    const char *d = bptt_error_detail();
    ck_assert_msg(strstr(d, a) && strstr(d, b), "detail \"%s\" lacks %s or %s",
                  d, a, b);
}

/* Every array of a Network A call, in one block (one snapshot). */
typedef struct arena {
    double W[DOUT * M], b[DOUT], x[TB * DIN], y0[B * DOUT], y[TB * DOUT];
    double dy[TB * DOUT], dW[DOUT * M], db[DOUT], dx[TB * DIN], dy0[B * DOUT];
} arena;

static arena *new_arena(unsigned long long seed)
{
    tu_rng r = {seed};
    arena *a = malloc(sizeof *a);
    double *d = (double *)a;
    for (size_t i = 0; i < sizeof *a / sizeof(double); i++)
        d[i] = tu_uniform(&r);
    return a;
}

/* ------------------------------------------------------------------------ */
/* Overlap                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(overlap_network_a)
{
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(net, T, B, &ws), BPTT_OK);
    arena *a = new_arena(1);
    tu_snap s = {0};
    tu_snap_add(&s, a, sizeof *a);

    /* y over x, over W, over the bias; y0 inside y */
    TU_REFUSED(bptt_forward(net, T, B, a->W, M, a->b, a->x, DIN, a->y0, DOUT,
                            a->x, DOUT, BPTT_ALGO_AUTO, ws),
               BPTT_EOVERLAP, &s);
    assert_detail_names("y", "x");
    TU_REFUSED(bptt_forward(net, T, B, a->W, M, a->b, a->x, DIN, a->y0, DOUT,
                            a->W + 3, DOUT, BPTT_ALGO_AUTO, ws),
               BPTT_EOVERLAP, &s);
    TU_REFUSED(bptt_forward(net, T, B, a->W, M, a->y + 5, a->x, DIN, a->y0,
                            DOUT, a->y, DOUT, BPTT_ALGO_AUTO, ws),
               BPTT_EOVERLAP, &s);
    assert_detail_names("y", "b");
    TU_REFUSED(bptt_forward(net, T, B, a->W, M, a->b, a->x, DIN,
                            a->y + TB * DOUT - 1, DOUT, a->y, DOUT,
                            BPTT_ALGO_AUTO, ws),
               BPTT_EOVERLAP, &s);

    ck_assert_int_eq(bptt_forward(net, T, B, a->W, M, a->b, a->x, DIN, a->y0,
                                  DOUT, a->y, DOUT, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    tu_snap_retake(&s);
    /* the probe's case: dW == W */
    TU_REFUSED(bptt_backward(net, T, B, a->W, M, a->dy, DOUT, 0, a->W, M, a->db,
                             a->dx, DIN, a->dy0, DOUT, BPTT_ALGO_AUTO, ws),
               BPTT_EOVERLAP, &s);
    assert_detail_names("dW", "W");
    /* dx over dy, db over dW's last row, dy0 over dx, each algorithm */
    for (int algo = 0; algo < BPTT_NALGO; algo++) {
        TU_REFUSED(bptt_backward(net, T, B, a->W, M, a->dy, DOUT, 0, a->dW, M,
                                 a->db, a->dy + 1, DIN, a->dy0, DOUT,
                                 (bptt_algo)algo, ws),
                   BPTT_EOVERLAP, &s);
        assert_detail_names("dx", "dy");
        TU_REFUSED(bptt_backward(net, T, B, a->W, M, a->dy, DOUT, 0, a->dW, M,
                                 a->dW + (DOUT - 1) * M + 4, a->dx, DIN,
                                 a->dy0, DOUT, (bptt_algo)algo, ws),
                   BPTT_EOVERLAP, &s);
        assert_detail_names("dW", "db");
        TU_REFUSED(bptt_backward(net, T, B, a->W, M, a->dy, DOUT, 0, a->dW, M,
                                 a->db, a->dx, DIN, a->dx + 2, DOUT,
                                 (bptt_algo)algo, ws),
                   BPTT_EOVERLAP, &s);
        assert_detail_names("dx", "dy0");
    }
    /* the error-flow arrays are outputs of backward too */
    double flow[TB];
    ck_assert_int_eq(bptt_workspace_record_flow(ws, flow, flow + 3), BPTT_OK);
    TU_REFUSED(bptt_backward(net, T, B, a->W, M, a->dy, DOUT, 0, a->dW, M,
                             a->db, a->dx, DIN, a->dy0, DOUT, BPTT_ALGO_AUTO,
                             ws),
               BPTT_EOVERLAP, &s);
    assert_detail_names("gnorm", "dnorm");
    ck_assert_int_eq(bptt_workspace_record_flow(ws, NULL, NULL), BPTT_OK);

    /* float, the same check */
    bpttf_workspace *fws;
    ck_assert_int_eq(bpttf_workspace_alloc(net, T, B, &fws), BPTT_OK);
    float *f = tu_to_float((const double *)a, sizeof *a / sizeof(double));
    float *fW = f, *fb = f + DOUT * M, *fx = fb + DOUT;
    TU_REFUSED_REGION(bpttf_forward(net, T, B, fW, M, fb, fx, DIN, NULL, 0,
                                    fx + DIN, DOUT, BPTT_ALGO_AUTO, fws),
                      BPTT_EOVERLAP, f, sizeof *a / 2);
    free(f);
    bpttf_workspace_free(fws);

    tu_snap_free(&s);
    free(a);
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

/* Column blocks of one buffer with one leading dimension do not overlap:
 * x in columns 0..din-1 and y in din..din+dout-1 of rows of m, exactly as
 * separate arrays; one column more and they do. */
START_TEST(interleaved_blocks_allowed)
{
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(net, T, B, &ws), BPTT_OK);
    arena *a = new_arena(2);
    double buf[TB * M];
    for (size_t k = 0; k < TB; k++)
        memcpy(buf + k * M, a->x + k * DIN, DIN * sizeof(double));
    ck_assert_int_eq(bptt_forward(net, T, B, a->W, M, a->b, a->x, DIN, NULL, 0,
                                  a->y, DOUT, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_forward(net, T, B, a->W, M, a->b, buf, M, NULL, 0,
                                  buf + DIN, M, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert(tu_relerr(TB, DOUT, buf + DIN, M, a->y, DOUT) < 1e-14);
    /* y one column to the left: its first column is x's last */
    TU_REFUSED_REGION(bptt_forward(net, T, B, a->W, M, a->b, buf, M, NULL, 0,
                                   buf + DIN - 1, M, BPTT_ALGO_AUTO, ws),
                      BPTT_EOVERLAP, buf, sizeof buf);
    /* y's rows run on into the next row's x (wrap): ld m, y at column
     * din + 1 with dout columns reaches column 0 of the next row */
    double wide[TB * M + M];
    memset(wide, 0, sizeof wide);
    TU_REFUSED_REGION(bptt_forward(net, T, B, a->W, M, a->b, wide, M, NULL, 0,
                                   wide + DIN + 1, M, BPTT_ALGO_AUTO, ws),
                      BPTT_EOVERLAP, wide, sizeof wide);
    /* a bias (one row) in the gap of a padded W is no overlap */
    double Wp[DOUT * (M + DOUT)];
    for (size_t i = 0; i < DOUT; i++) {
        memcpy(Wp + i * (M + DOUT), a->W + i * M, M * sizeof(double));
        Wp[i * (M + DOUT) + M] = 0;
    }
    memcpy(Wp + M, a->b, DOUT * sizeof(double)); /* row 0's padding */
    ck_assert_int_eq(bptt_forward(net, T, B, Wp, M + DOUT, Wp + M, a->x, DIN,
                                  NULL, 0, a->dy, DOUT, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert(tu_relerr(TB, DOUT, a->dy, DOUT, a->y, DOUT) < 1e-14);
    free(a);
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

START_TEST(overlap_elman)
{
    enum { NOUT = 3 };
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(net, NOUT, BPTT_HEAD_SOFTMAX, &el),
                     BPTT_OK);
    bptt_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_workspace_alloc(el, T, B, &ws), BPTT_OK);
    arena *a = new_arena(3);
    double Wo[NOUT * DOUT], dWo[NOUT * DOUT], y[TB * NOUT], E = 0;
    tu_rng r = {4};
    for (size_t i = 0; i < NOUT * DOUT; i++)
        Wo[i] = tu_uniform(&r);
    int labels[TB];
    for (size_t k = 0; k < TB; k++)
        labels[k] = (int)(k % NOUT);
    tu_snap s = {0};
    tu_snap_add(&s, a, sizeof *a);
    tu_snap_add(&s, Wo, sizeof Wo);
    /* h over x; E inside W */
    TU_REFUSED(bptt_elman_forward(el, T, B, a->W, M, a->b, Wo, DOUT, NULL,
                                  a->x, DIN, NULL, 0, labels, NULL, 0, &E,
                                  a->x, DOUT, y, NOUT, BPTT_ALGO_AUTO, ws),
               BPTT_EOVERLAP, &s);
    assert_detail_names("h", "x");
    TU_REFUSED(bptt_elman_forward(el, T, B, a->W, M, a->b, Wo, DOUT, NULL,
                                  a->x, DIN, NULL, 0, labels, NULL, 0,
                                  (double *)a->W + 2, a->y, DOUT, y, NOUT,
                                  BPTT_ALGO_AUTO, ws),
               BPTT_EOVERLAP, &s);
    assert_detail_names("E", "W");
    ck_assert_int_eq(bptt_elman_forward(el, T, B, a->W, M, a->b, Wo, DOUT,
                                        NULL, a->x, DIN, NULL, 0, labels, NULL,
                                        0, &E, NULL, 0, NULL, 0,
                                        BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    /* dWo == Wo; dW over dWo */
    TU_REFUSED(bptt_elman_backward(el, T, B, a->W, M, Wo, DOUT, labels, NULL,
                                   0, 0, a->dW, M, a->db, Wo, DOUT, NULL,
                                   a->dx, DIN, NULL, 0, BPTT_ALGO_AUTO, ws),
               BPTT_EOVERLAP, &s);
    assert_detail_names("dWo", "Wo");
    TU_REFUSED(bptt_elman_backward(el, T, B, a->W, M, Wo, DOUT, labels, NULL,
                                   0, 0, a->dW, M, a->db, a->dW + 2, DOUT,
                                   NULL, a->dx, DIN, NULL, 0, BPTT_ALGO_AUTO,
                                   ws),
               BPTT_EOVERLAP, &s);
    assert_detail_names("dW", "dWo");
    ck_assert_int_eq(bptt_elman_backward(el, T, B, a->W, M, Wo, DOUT, labels,
                                         NULL, 0, 0, a->dW, M, a->db, dWo,
                                         DOUT, NULL, a->dx, DIN, NULL, 0,
                                         BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    tu_snap_free(&s);
    free(a);
    bptt_elman_workspace_free(ws);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

START_TEST(overlap_rtrl)
{
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    bptt_rtrl *st;
    ck_assert_int_eq(bptt_rtrl_alloc(net, B, &st), BPTT_OK);
    arena *a = new_arena(5);
    double loss = 0;
    tu_snap s = {0};
    tu_snap_add(&s, a, sizeof *a);
    TU_REFUSED(bptt_rtrl_sequence(net, T, B, a->W, M, a->b, a->x, DIN, NULL, 0,
                                  a->dy, DOUT, NULL, a->y, DOUT, &loss, 0,
                                  a->W, M, a->db, BPTT_RTRL_AUTO, st),
               BPTT_EOVERLAP, &s);
    assert_detail_names("dW", "W");
    TU_REFUSED(bptt_rtrl_sequence(net, T, B, a->W, M, a->b, a->x, DIN, NULL, 0,
                                  a->dy + 4, DOUT, NULL, a->dy, DOUT, &loss, 0,
                                  a->dW, M, a->db, BPTT_RTRL_AUTO, st),
               BPTT_EOVERLAP, &s);
    assert_detail_names("y", "target");
    ck_assert_int_eq(bptt_rtrl_reset(net, B, NULL, 0, st), BPTT_OK);
    TU_REFUSED(bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, a->x + 1,
                                 DOUT, BPTT_RTRL_AUTO, st),
               BPTT_EOVERLAP, &s);
    ck_assert_int_eq(bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, a->y,
                                       DOUT, BPTT_RTRL_AUTO, st),
                     BPTT_OK);
    tu_snap_retake(&s);
    TU_REFUSED(bptt_rtrl_accumulate(net, B, a->dy, DOUT, 0, a->dy, M, a->db,
                                    BPTT_RTRL_AUTO, st),
               BPTT_EOVERLAP, &s);
    assert_detail_names("dW", "dy");
    TU_REFUSED(bptt_rtrl_step(net, B, a->W, M, a->b, a->x, DIN, a->dy, DOUT,
                              NULL, a->y, DOUT, (double *)a->dW, 0, a->dW, M,
                              a->db, BPTT_RTRL_AUTO, st),
               BPTT_EOVERLAP, &s);
    assert_detail_names("loss", "dW");
    tu_snap_free(&s);
    free(a);
    bptt_rtrl_free(st);
    bptt_net_free(net);
}
END_TEST

/* The gated cells' workspaces refuse overlapping outputs too. */
START_TEST(overlap_gated)
{
    enum { GD = 3, GN = 4, GT = 3, GB = 2, GG = 16 /* 4·n */ };
    bptt_gated_workspace *ws;
    ck_assert_int_eq(bptt_gated_workspace_alloc(BPTT_CELL_LSTM, GD, GN, GT, GB,
                                                &ws), BPTT_OK);
    tu_rng r = {77};
    double *buf = tu_random(2048, 0.3, &r);
    double *W = buf, *U = W + GG * GD, *x = U + GG * GN, *h = x + GT * GB * GD;
    double *dh = h + GT * GB * GN, *dW = dh + GT * GB * GN, *dU = dW + GG * GD;
    double *dx = dU + GG * GN;
    tu_snap s = {0};
    tu_snap_add(&s, buf, 2048 * sizeof *buf);
    TU_REFUSED(bptt_gated_forward(GT, GB, W, GD, U, GN, NULL, NULL, x, GD, NULL,
                                  0, NULL, 0, x + 1, GN, NULL, 0,
                                  BPTT_ALGO_DEFERRED, ws),
               BPTT_EOVERLAP, &s);
    assert_detail_names("h", "x");
    ck_assert_int_eq(bptt_gated_forward(GT, GB, W, GD, U, GN, NULL, NULL, x, GD,
                                        NULL, 0, NULL, 0, h, GN, NULL, 0,
                                        BPTT_ALGO_DEFERRED, ws), BPTT_OK);
    tu_snap_retake(&s);
    TU_REFUSED(bptt_gated_backward(GT, GB, W, GD, U, GN, dh, GN, NULL, 0, 0,
                                   dW, GD, U, GN, NULL, NULL, dx, GD, NULL, 0,
                                   NULL, 0, BPTT_ALGO_DEFERRED, ws),
               BPTT_EOVERLAP, &s);
    assert_detail_names("dU", "U");
    TU_REFUSED(bptt_gated_backward(GT, GB, W, GD, U, GN, dh, GN, NULL, 0, 0,
                                   dW, GD, dU, GN, NULL, NULL, dW + 2, GD, NULL,
                                   0, NULL, 0, BPTT_ALGO_DEFERRED, ws),
               BPTT_EOVERLAP, &s);
    ck_assert_int_eq(bptt_gated_backward(GT, GB, W, GD, U, GN, dh, GN, NULL, 0,
                                         0, dW, GD, dU, GN, NULL, NULL, dx, GD,
                                         NULL, 0, NULL, 0, BPTT_ALGO_DEFERRED,
                                         ws), BPTT_OK);
    tu_snap_free(&s);
    free(buf);
    bptt_gated_workspace_free(ws);
}
END_TEST

START_TEST(overlap_loss_sgd_plan)
{
    arena *a = new_arena(6);
    double loss = -1;
    tu_snap s = {0};
    tu_snap_add(&s, a, sizeof *a);
    tu_snap_add(&s, &loss, sizeof loss);
    TU_REFUSED(bptt_loss_squared(T, B, DOUT, a->y, DOUT, a->dy, DOUT, NULL,
                                 &loss, a->dy + 1, DOUT),
               BPTT_EOVERLAP, &s);
    assert_detail_names("dy", "target");
    TU_REFUSED(bptt_loss_squared(T, B, DOUT, a->y, DOUT, a->dy, DOUT, NULL,
                                 a->y + 3, a->dW, DOUT),
               BPTT_EOVERLAP, &s);
    assert_detail_names("loss", "y");
    TU_REFUSED(bptt_sgd_step(DOUT, M, 0.1, a->W, M, a->W, M), BPTT_EOVERLAP,
               &s);
    assert_detail_names("W", "dW");
    TU_REFUSED(bptt_sgd_step(DOUT, M, 0.1, a->W + M, M, a->W, M),
               BPTT_EOVERLAP, &s);
    /* the one overlap allowed: dy == y, the error replacing y */
    double e[TB * DOUT];
    for (size_t i = 0; i < TB * DOUT; i++)
        e[i] = a->y[i] - a->dy[i];
    ck_assert_int_eq(bptt_loss_squared(T, B, DOUT, a->y, DOUT, a->dy, DOUT,
                                       NULL, &loss, a->y, DOUT),
                     BPTT_OK);
    ck_assert(memcmp(e, a->y, sizeof e) == 0);

    /* the plan layer reaches the same checks */
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    bptt_plan *plan;
    ck_assert_int_eq(bptt_plan_create(net, T, B, NULL, BPTT_ALGO_AUTO, &plan),
                     BPTT_OK);
    tu_snap_retake(&s);
    bptt_params prm = {a->W, a->b};
    TU_REFUSED(bptt_plan_forward(plan, T, B, &prm, a->x, NULL, a->b),
               BPTT_EOVERLAP, &s);
    ck_assert_int_eq(bptt_plan_forward(plan, T, B, &prm, a->x, NULL, a->y),
                     BPTT_OK);
    tu_snap_retake(&s);
    bptt_grads g = {(double *)a->W, NULL, NULL, NULL};
    TU_REFUSED(bptt_plan_backward(plan, T, B, &prm, a->dy, 0, &g),
               BPTT_EOVERLAP, &s);
    bptt_plan_destroy(plan);
    bptt_net_free(net);
    tu_snap_free(&s);
    free(a);
}
END_TEST

/* The probe's case: one block listed twice counted twice (7.07 for 5). */
START_TEST(overlap_clip_blocks)
{
    double g[2] = {3, 4}, w[2] = {1, 1}, norm = -1, norms[2] = {-1, -1};
    bptt_block twice[2] = {{1, 2, g, 2}, {1, 2, g, 2}};
    tu_snap s = {0};
    tu_snap_add(&s, g, sizeof g);
    tu_snap_add(&s, w, sizeof w);
    tu_snap_add(&s, &norm, sizeof norm);
    tu_snap_add(&s, norms, sizeof norms);
    TU_REFUSED(bptt_clip_global_norm(2, twice, 1, &norm, norms),
               BPTT_EOVERLAP, &s);
    assert_detail_names("g[0]", "g[1]");
    /* partly: the second block is the first's last entry */
    bptt_block part[2] = {{1, 2, g, 2}, {1, 1, g + 1, 1}};
    TU_REFUSED(bptt_clip_global_norm(2, part, 1, &norm, norms),
               BPTT_EOVERLAP, &s);
    /* norms over a block, norm over norms */
    bptt_block one = {1, 2, g, 2};
    TU_REFUSED(bptt_clip_global_norm(1, &one, 1, &norm, g + 1),
               BPTT_EOVERLAP, &s);
    assert_detail_names("g[0]", "norms");
    TU_REFUSED(bptt_clip_global_norm(1, &one, 1, norms, norms),
               BPTT_EOVERLAP, &s);
    assert_detail_names("norm", "norms");
    /* the clipped step: W over dW, W listed twice */
    bptt_block wb[2] = {{1, 1, w, 1}, {1, 1, w, 1}};
    bptt_block gb[2] = {{1, 1, g, 1}, {1, 1, g + 1, 1}};
    TU_REFUSED(bptt_sgd_step_clipped(2, 0.1, gb, 1, wb, &norm, norms),
               BPTT_EOVERLAP, &s);
    assert_detail_names("W[0]", "W[1]");
    bptt_block wg[2] = {{1, 1, w, 1}, {1, 1, g + 1, 1}};
    TU_REFUSED(bptt_sgd_step_clipped(2, 0.1, gb, 1, wg, &norm, norms),
               BPTT_EOVERLAP, &s);
    assert_detail_names("W[1]", "dW[1]");
    /* the diagnostics' scalar outputs inside their matrix */
    double A[4] = {1, 2, 3, 4}, rho;
    tu_snap_add(&s, A, sizeof A);
    TU_REFUSED(bptt_spectral_radius(2, A, 2, A + 3), BPTT_EOVERLAP, &s);
    assert_detail_names("radius", "A");
    TU_REFUSED(bptt_spectral_norm(2, 2, A, 2, A), BPTT_EOVERLAP, &s);
    TU_REFUSED(bptt_init_rescale_radius(2, 1, A, 2, A + 1), BPTT_EOVERLAP,
               &s);
    assert_detail_names("Wy", "before");
    ck_assert_int_eq(bptt_spectral_radius(2, A, 2, &rho), BPTT_OK);
    /* distinct blocks: the norm is 5 */
    bptt_block two[2] = {{1, 1, g, 1}, {1, 1, g + 1, 1}};
    ck_assert_int_eq(bptt_clip_global_norm(2, two, 10, &norm, norms), BPTT_OK);
    ck_assert(norm == 5);
    tu_snap_free(&s);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Stale workspaces: the descriptor freed, its address reused                */
/* ------------------------------------------------------------------------ */

/* glibc's calloc (bptt_net_create's) never takes a chunk from the
 * per-thread cache, where a freed descriptor lands: fill the cache's small
 * bins first, so that the next free goes to the bins calloc reads. */
static void fill_tcache(void)
{
    void *p[7 * 40];
    size_t n = 0;
    for (size_t size = 8; size <= 640; size += 16)
        for (int k = 0; k < 7; k++)
            p[n++] = malloc(size);
    for (size_t i = 0; i < n; i++)
        free(p[i]);
}

/* A new net of dout units, made until it lands at old's address (at most
 * 64 tries; the allocator usually gives it at once).  *reused says whether
 * it did; the extra nets made on the way are freed. */
static bptt_net *net_at(const void *old, size_t dout, int *reused)
{
    bptt_net *keep[64];
    size_t n = 0;
    bptt_net *net = NULL;
    *reused = 0;
    while (n < 64) {
        net = tu_mixed_net(DIN, dout);
        if ((const void *)net == old) {
            *reused = 1;
            break;
        }
        keep[n++] = net;
        net = NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!net && i == n - 1)
            net = keep[i];
        else
            bptt_net_free(keep[i]);
    return net;
}

START_TEST(stale_workspaces)
{
    bptt_net *small = tu_mixed_net(DIN, 2);
    bptt_workspace *ws;
    bptt_rtrl *st;
    bptt_plan *plan;
    ck_assert_int_eq(bptt_workspace_alloc(small, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_alloc(small, B, &st), BPTT_OK);
    ck_assert_int_eq(bptt_plan_create(small, T, B, NULL, BPTT_ALGO_AUTO, &plan),
                     BPTT_OK);
    const void *old = small;
    fill_tcache();
    bptt_net_free(small);
    int reused;
    bptt_net *big = net_at(old, 40, &reused); /* 40 units: 20x the arrays */
    enum { BIG = 40 * (DIN + 40) + TB * 40 };
    double *arr = calloc(6 * BIG, sizeof(double));
    double *W = arr, *x = W + BIG, *y = x + BIG, *dW = y + BIG, *dy = dW + BIG;
    tu_snap s = {0};
    tu_snap_add(&s, arr, 6 * BIG * sizeof(double));
    TU_REFUSED(bptt_forward(big, T, B, W, DIN + 40, NULL, x, DIN, NULL, 0, y,
                            40, BPTT_ALGO_AUTO, ws),
               BPTT_EMISMATCH, &s);
    if (reused)
        assert_detail_names("freed", "net");
    if (getenv("TEST_MISUSE_VERBOSE"))
        fprintf(stderr, "stale: address %sreused\n", reused ? "" : "not ");
    TU_REFUSED(bptt_rtrl_reset(big, B, NULL, 0, st), BPTT_EMISMATCH, &s);
    TU_REFUSED(bptt_rtrl_sequence(big, T, B, W, DIN + 40, NULL, x, DIN, NULL,
                                  0, dy, 40, NULL, y, 40, NULL, 0, dW,
                                  DIN + 40, NULL, BPTT_RTRL_AUTO, st),
               BPTT_EMISMATCH, &s);
    /* the plan keeps the old net's address; its workspace the generation
     * (only when the address was reused: else the plan's net is gone) */
    bptt_params prm = {W, NULL};
    if (reused)
        TU_REFUSED(bptt_plan_forward(plan, T, B, &prm, x, NULL, y),
                   BPTT_EMISMATCH, &s);
    bptt_plan_destroy(plan);
    bptt_rtrl_free(st);
    bptt_workspace_free(ws);

    /* Elman: the descriptor freed and remade with more outputs */
    bptt_elman *el, *el2;
    ck_assert_int_eq(bptt_elman_create(big, 2, BPTT_HEAD_LINEAR, &el), BPTT_OK);
    bptt_elman_workspace *ews;
    ck_assert_int_eq(bptt_elman_workspace_alloc(el, T, B, &ews), BPTT_OK);
    const void *eold = el;
    bptt_elman_free(el);
    bptt_elman *spare[64];
    size_t n = 0;
    for (;;) {
        ck_assert_int_eq(bptt_elman_create(big, 50, BPTT_HEAD_LINEAR, &el2),
                         BPTT_OK);
        if ((const void *)el2 == eold || n == 63)
            break;
        spare[n++] = el2;
    }
    for (size_t i = 0; i < n; i++)
        bptt_elman_free(spare[i]);
    if (getenv("TEST_MISUSE_VERBOSE"))
        fprintf(stderr, "stale: Elman address %sreused\n",
                (const void *)el2 == eold ? "" : "not ");
    double Wo[50 * 40], E;
    TU_REFUSED(bptt_elman_forward(el2, T, B, W, DIN + 40, NULL, Wo, 40, NULL,
                                  x, DIN, NULL, 0, NULL, dy, 50, &E, NULL, 0,
                                  y, 50, BPTT_ALGO_AUTO, ews),
               BPTT_EMISMATCH, &s);
    if ((const void *)el2 == eold)
        assert_detail_names("freed", "el");
    bptt_elman_workspace_free(ews);
    bptt_elman_free(el2);

    /* a live descriptor of the same sizes made later does not adopt it */
    bptt_net *a1 = tu_mixed_net(DIN, DOUT), *a2 = tu_mixed_net(DIN, DOUT);
    bptt_workspace *w1;
    ck_assert_int_eq(bptt_workspace_alloc(a1, T, B, &w1), BPTT_OK);
    TU_REFUSED(bptt_forward(a2, T, B, W, M, NULL, x, DIN, NULL, 0, y, DOUT,
                            BPTT_ALGO_AUTO, w1),
               BPTT_EMISMATCH, &s);
    bptt_workspace_free(w1);
    bptt_net_free(a1);
    bptt_net_free(a2);
    tu_snap_free(&s);
    free(arr);
    bptt_net_free(big);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Busy workspaces                                                           */
/* ------------------------------------------------------------------------ */

/* A custom activation that, once, calls back into bptt on the workspace
 * its forward is running on, and keeps the status it got. */
typedef struct reenter {
    const bptt_net *net;
    bptt_workspace *ws;
    bptt_elman *el;
    bptt_elman_workspace *ews;
    bptt_rtrl *st;
    const double *W, *x;
    double *y;
    int armed;
    bptt_status got[8];
    int ngot;
} reenter;

static double reenter_f(double z, void *user)
{
    reenter *r = user;
    if (r->armed) {
        r->armed = 0;
        double dW[DOUT * M], dx[TB * DIN];
        if (r->ws) {
            r->got[r->ngot++] = bptt_forward(r->net, T, B, r->W, M, NULL, r->x,
                                             DIN, NULL, 0, r->y, DOUT,
                                             BPTT_ALGO_AUTO, r->ws);
            r->got[r->ngot++] = bptt_backward(r->net, T, B, r->W, M, r->y,
                                              DOUT, 0, dW, M, NULL, dx, DIN,
                                              NULL, 0, BPTT_ALGO_AUTO, r->ws);
            r->got[r->ngot++] = bptt_workspace_set_threads(r->ws, 2);
            r->got[r->ngot++] = bptt_workspace_check_finite(r->ws, 1);
        }
        if (r->ews) {
            double E;
            r->got[r->ngot++] = bptt_elman_forward(
                r->el, T, B, r->W, M, NULL, r->W, DOUT, NULL, r->x, DIN, NULL,
                0, NULL, r->y, 2, &E, NULL, 0, NULL, 0, BPTT_ALGO_AUTO, r->ews);
            r->got[r->ngot++] = bptt_elman_workspace_set_threads(r->ews, 2);
        }
        if (r->st)
            r->got[r->ngot++] = bptt_rtrl_reset(r->net, B, NULL, 0, r->st);
    }
    return tanh(z);
}

static double reenter_df(double z, void *user)
{
    (void)user;
    double t = tanh(z);
    return 1 - t * t;
}

START_TEST(busy_reentrant_activation)
{
    reenter r = {0};
    bptt_custom_activation act = {reenter_f, reenter_df, &r};
    bptt_net *net, *plain;
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_CUSTOM, &act,
                                             &net), BPTT_OK);
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL,
                                             &plain), BPTT_OK);
    arena *a = new_arena(7), *ref = new_arena(7);
    bptt_workspace *ws, *pws;
    ck_assert_int_eq(bptt_workspace_alloc(net, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_alloc(plain, T, B, &pws), BPTT_OK);
    /* the callback writes into its own arrays, never the outer call's */
    double cb_y[TB * DOUT];
    r = (reenter){.net = net, .ws = ws, .W = a->W, .x = a->x, .y = cb_y,
                  .armed = 1};
    for (int algo = 1; algo < BPTT_NALGO; algo++) {
        r.armed = 1;
        r.ngot = 0;
        ck_assert_int_eq(bptt_forward(net, T, B, a->W, M, a->b, a->x, DIN,
                                      a->y0, DOUT, a->y, DOUT,
                                      (bptt_algo)algo, ws), BPTT_OK);
        ck_assert_int_eq(r.ngot, 4);
        for (int k = 0; k < 4; k++)
            ck_assert_int_eq(r.got[k], BPTT_EBUSY);
        ck_assert_int_eq(bptt_workspace_threads(ws), 1);
        ck_assert_int_eq(bptt_backward(net, T, B, a->W, M, a->dy, DOUT, 0,
                                       a->dW, M, a->db, a->dx, DIN, a->dy0,
                                       DOUT, (bptt_algo)algo, ws), BPTT_OK);
        /* the same as a tanh net that never called back */
        ck_assert_int_eq(bptt_forward(plain, T, B, ref->W, M, ref->b, ref->x,
                                      DIN, ref->y0, DOUT, ref->y, DOUT,
                                      (bptt_algo)algo, pws), BPTT_OK);
        ck_assert_int_eq(bptt_backward(plain, T, B, ref->W, M, ref->dy, DOUT,
                                       0, ref->dW, M, ref->db, ref->dx, DIN,
                                       ref->dy0, DOUT, (bptt_algo)algo, pws),
                         BPTT_OK);
        ck_assert(tu_relerr(TB, DOUT, a->y, DOUT, ref->y, DOUT) < 1e-13);
        ck_assert(tu_relerr(DOUT, M, a->dW, M, ref->dW, M) < 1e-13);
        ck_assert(tu_relerr(TB, DIN, a->dx, DIN, ref->dx, DIN) < 1e-13);
    }
    /* the flag is down again: the next calls from outside succeed */
    ck_assert_int_eq(bptt_workspace_check_finite(ws, 0), BPTT_OK);

    /* Elman: the callback on the Elman workspace */
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(net, 2, BPTT_HEAD_LINEAR, &el), BPTT_OK);
    bptt_elman_workspace *ews;
    ck_assert_int_eq(bptt_elman_workspace_alloc(el, T, B, &ews), BPTT_OK);
    double Wo[2 * DOUT] = {0.1, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, -0.4};
    r = (reenter){.net = net, .el = el, .ews = ews, .W = a->W, .x = a->x,
                  .y = cb_y, .armed = 1};
    ck_assert_int_eq(bptt_elman_forward(el, T, B, a->W, M, NULL, Wo, DOUT,
                                        NULL, a->x, DIN, NULL, 0, NULL, NULL,
                                        0, NULL, NULL, 0, NULL, 0,
                                        BPTT_ALGO_AUTO, ews), BPTT_OK);
    ck_assert_int_eq(r.ngot, 2);
    ck_assert_int_eq(r.got[0], BPTT_EBUSY);
    ck_assert_int_eq(r.got[1], BPTT_EBUSY);

    /* RTRL: the callback on the state */
    bptt_rtrl *st;
    ck_assert_int_eq(bptt_rtrl_alloc(net, B, &st), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_reset(net, B, NULL, 0, st), BPTT_OK);
    r = (reenter){.net = net, .st = st, .armed = 1};
    ck_assert_int_eq(bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, a->y,
                                       DOUT, BPTT_RTRL_AUTO, st), BPTT_OK);
    ck_assert_int_eq(r.ngot, 1);
    ck_assert_int_eq(r.got[0], BPTT_EBUSY);

    bptt_rtrl_free(st);
    bptt_elman_workspace_free(ews);
    bptt_elman_free(el);
    bptt_workspace_free(ws);
    bptt_workspace_free(pws);
    free(a);
    free(ref);
    bptt_net_free(net);
    bptt_net_free(plain);
}
END_TEST

/* Another thread: the first call is held inside its custom activation
 * until the second thread has tried every call on the same workspace. */
typedef struct hold {
    atomic_int inside, go;
} hold;

static double hold_f(double z, void *user)
{
    hold *h = user;
    if (!atomic_exchange(&h->inside, 1))
        while (!atomic_load(&h->go))
            ;
    return tanh(z);
}

typedef struct second {
    hold *h;
    const bptt_net *net;
    bptt_workspace *ws;
    arena *a;
    bptt_status got[5];
} second;

static void *second_thread(void *arg)
{
    second *s = arg;
    while (!atomic_load(&s->h->inside))
        ;
    arena *a = s->a;
    s->got[0] = bptt_forward(s->net, T, B, a->W, M, a->b, a->x, DIN, NULL, 0,
                             a->dy, DOUT, BPTT_ALGO_AUTO, s->ws);
    s->got[1] = bptt_backward(s->net, T, B, a->W, M, a->dy, DOUT, 0, a->dW, M,
                              a->db, a->dx, DIN, a->dy0, DOUT, BPTT_ALGO_AUTO,
                              s->ws);
    s->got[2] = bptt_workspace_set_threads(s->ws, 2);
    s->got[3] = bptt_workspace_record_flow(s->ws, NULL, NULL);
    double g[TB];
    s->got[4] = bptt_flow_lag_profile(s->net, T, B, a->W, M, NULL, 0, g, NULL,
                                      s->ws);
    atomic_store(&s->h->go, 1);
    return NULL;
}

START_TEST(busy_other_thread)
{
    hold h;
    atomic_init(&h.inside, 0);
    atomic_init(&h.go, 0);
    bptt_custom_activation act = {hold_f, reenter_df, &h};
    bptt_net *net;
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_CUSTOM, &act,
                                             &net), BPTT_OK);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(net, T, B, &ws), BPTT_OK);
    arena *a = new_arena(8);
    /* the second thread's outputs: dy (its y), dW, db, dx, dy0 */
    tu_snap s = {0};
    tu_snap_add(&s, a->dy, sizeof a->dy + sizeof a->dW + sizeof a->db +
                               sizeof a->dx + sizeof a->dy0);
    second sec = {&h, net, ws, a, {0}};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, second_thread, &sec), 0);
    ck_assert_int_eq(bptt_forward(net, T, B, a->W, M, a->b, a->x, DIN, NULL, 0,
                                  a->y, DOUT, BPTT_ALGO_AUTO, ws), BPTT_OK);
    pthread_join(th, NULL);
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(sec.got[k], BPTT_EBUSY);
    ck_assert_int_eq(tu_snap_changed(&s), -1);
    ck_assert_int_eq(bptt_workspace_threads(ws), 1);
    /* free again */
    ck_assert_int_eq(bptt_backward(net, T, B, a->W, M, a->dy, DOUT, 0, a->dW, M,
                                   a->db, a->dx, DIN, a->dy0, DOUT,
                                   BPTT_ALGO_AUTO, ws), BPTT_OK);
    tu_snap_free(&s);
    free(a);
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

/* A refused call (any status) lowers the flag it raised. */
START_TEST(busy_flag_released_on_error)
{
    bptt_net *net = tu_mixed_net(DIN, DOUT);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(net, T, B, &ws), BPTT_OK);
    arena *a = new_arena(9);
    ck_assert_int_eq(bptt_backward(net, T, B, a->W, M, a->dy, DOUT, 0, a->dW,
                                   M, NULL, NULL, 0, NULL, 0, BPTT_ALGO_AUTO,
                                   ws), BPTT_ENOFORWARD);
    ck_assert_int_eq(bptt_forward(net, T, B, a->W, M, a->b, a->x, DIN, NULL, 0,
                                  a->x, DOUT, BPTT_ALGO_AUTO, ws),
                     BPTT_EOVERLAP);
    ck_assert_int_eq(bptt_forward(net, T, B, NULL, M, a->b, a->x, DIN, NULL, 0,
                                  a->y, DOUT, BPTT_ALGO_AUTO, ws), BPTT_ENULL);
    ck_assert_int_eq(bptt_forward(net, T, B, a->W, M, a->b, a->x, DIN, NULL, 0,
                                  a->y, DOUT, BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_set_threads(ws, 0), BPTT_EINVAL);
    ck_assert_int_eq(bptt_workspace_set_threads(ws, 1), BPTT_OK);
    free(a);
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* OpenBLAS's thread count, as another thread sees it                        */
/* ------------------------------------------------------------------------ */

#ifdef TEST_HAVE_OPENBLAS
#include <cblas.h>

typedef struct poller {
    atomic_int running, done;
    int before_bad, after_bad, polls;
} poller;

/* Polls openblas_get_num_threads() while bptt runs on the main thread:
 * 2 throughout; then sets 1 itself and expects 1 from then on. */
static void *poll_thread(void *arg)
{
    poller *p = arg;
    while (!atomic_load(&p->running))
        ;
    for (int i = 0; i < 200000; i++, p->polls++)
        p->before_bad += openblas_get_num_threads() != 2;
    openblas_set_num_threads(1);
    for (int i = 0; i < 200000; i++, p->polls++)
        p->after_bad += openblas_get_num_threads() != 1;
    atomic_store(&p->done, 1);
    return NULL;
}

START_TEST(blas_threads_untouched)
{
    openblas_set_num_threads(2);
    ck_assert_int_eq(openblas_get_num_threads(), 2);
    /* the shape the old cap lowered the count for: small recurrence */
    enum { N = 32, TT = 4 };
    bptt_net *net;
    ck_assert_int_eq(bptt_net_create_uniform(N, N, BPTT_ACT_TANH, NULL, &net),
                     BPTT_OK);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(net, TT, 1, &ws), BPTT_OK);
    bptt_rtrl *st;
    ck_assert_int_eq(bptt_rtrl_alloc(net, 1, &st), BPTT_OK);
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(net, 3, BPTT_HEAD_SOFTMAX, &el),
                     BPTT_OK);
    bptt_elman_workspace *ews;
    ck_assert_int_eq(bptt_elman_workspace_alloc(el, TT, 1, &ews), BPTT_OK);
    tu_rng r = {10};
    double *W = tu_random(N * 2 * N, 0.2, &r), *x = tu_random(TT * N, 1, &r);
    double *dy = tu_random(TT * N, 1, &r), *Wo = tu_random(3 * N, 0.2, &r);
    double y[TT * N], dW[N * 2 * N], dx[TT * N], dWo[3 * N], loss;
    int labels[TT] = {0, 1, 2, 0};
    poller p = {0};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, poll_thread, &p), 0);
    atomic_store(&p.running, 1);
    size_t calls = 0;
    while (!atomic_load(&p.done)) {
        for (int algo = 0; algo < BPTT_NALGO; algo++) {
            ck_assert_int_eq(bptt_forward(net, TT, 1, W, 2 * N, NULL, x, N,
                                          NULL, 0, y, N, (bptt_algo)algo, ws),
                             BPTT_OK);
            ck_assert_int_eq(bptt_backward(net, TT, 1, W, 2 * N, dy, N, 0, dW,
                                           2 * N, NULL, dx, N, NULL, 0,
                                           (bptt_algo)algo, ws), BPTT_OK);
        }
        ck_assert_int_eq(bptt_rtrl_sequence(net, TT, 1, W, 2 * N, NULL, x, N,
                                            NULL, 0, dy, N, NULL, y, N, &loss,
                                            0, dW, 2 * N, NULL,
                                            BPTT_RTRL_AUTO, st), BPTT_OK);
        double E;
        ck_assert_int_eq(bptt_elman_forward(el, TT, 1, W, 2 * N, NULL, Wo, N,
                                            NULL, x, N, NULL, 0, labels, NULL,
                                            0, &E, NULL, 0, NULL, 0,
                                            BPTT_ALGO_AUTO, ews), BPTT_OK);
        ck_assert_int_eq(bptt_elman_backward(el, TT, 1, W, 2 * N, Wo, N,
                                             labels, NULL, 0, 0, dW, 2 * N,
                                             NULL, dWo, N, NULL, dx, N, NULL,
                                             0, BPTT_ALGO_AUTO, ews), BPTT_OK);
        calls += 2 * BPTT_NALGO + 3;
    }
    pthread_join(th, NULL);
    ck_assert_msg(p.before_bad == 0 && p.after_bad == 0,
                  "another thread saw a changed OpenBLAS thread count %d + %d "
                  "times in %d polls over %zu bptt calls", p.before_bad,
                  p.after_bad, p.polls, calls);
    /* the other thread's own setting survived every bptt call */
    ck_assert_int_eq(openblas_get_num_threads(), 1);
    ck_assert_uint_gt(calls, 0);
    free(W);
    free(x);
    free(dy);
    free(Wo);
    bptt_elman_workspace_free(ews);
    bptt_elman_free(el);
    bptt_rtrl_free(st);
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST
#endif

int main(void)
{
    Suite *s = suite_create("misuse");
    TCase *tc = tcase_create("overlap");
    tcase_add_test(tc, overlap_network_a);
    tcase_add_test(tc, interleaved_blocks_allowed);
    tcase_add_test(tc, overlap_elman);
    tcase_add_test(tc, overlap_rtrl);
    tcase_add_test(tc, overlap_gated);
    tcase_add_test(tc, overlap_loss_sgd_plan);
    tcase_add_test(tc, overlap_clip_blocks);
    suite_add_tcase(s, tc);
    tc = tcase_create("stale");
    tcase_add_test(tc, stale_workspaces);
    suite_add_tcase(s, tc);
    tc = tcase_create("busy");
    tcase_add_test(tc, busy_reentrant_activation);
    tcase_add_test(tc, busy_other_thread);
    tcase_add_test(tc, busy_flag_released_on_error);
    suite_add_tcase(s, tc);
#ifdef TEST_HAVE_OPENBLAS
    tc = tcase_create("blas");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, blas_threads_untouched);
    suite_add_tcase(s, tc);
#endif
    return tu_run_suite(s);
}
