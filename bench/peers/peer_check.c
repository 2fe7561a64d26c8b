/*
 * peer_check.c — the peers checked against bptt's naive form (reference
 * kind): for a small shape with din != dout, T > 1 and B > 1, every
 * available peer's y, dL/dW and dL/dx must match BPTT_ALGO_NAIVE in each
 * precision it supports (relative 1e-10 in double, 1e-4 in float).  This
 * proves the runners, the file format and the layout conversions (oneDNN's
 * transposed ldigo weights, torch's split weight_ih/weight_hh) at once; a
 * warm-up before the timed repetition makes a peer that accumulates its
 * weight gradients across repetitions fail.  Also checked: oneDNN refuses
 * double, the repetition count honours the cap, and each sample's
 * forward+backward time is the sum of its two parts.
 *
 * The gated cells too (protocol version 2): each peer's LSTM and GRU (with
 * both biases, oneDNN's lbr_gru gate order and bias blocks, torch's
 * nn.LSTM / nn.GRU) against bptt_gated_forward / _backward with
 * BPTT_ALGO_NAIVE, y, [dW | dU] and dx, in each precision the peer does.
 *
 * Exit status 77 (skipped) when no peer is available.
 */
#include "peer.h"

#include <bptt.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DIN = 5, DOUT = 7, M = DIN + DOUT, T = 6, B = 3 };
#define TOL_DOUBLE 1e-10
#define TOL_FLOAT 1e-4

static const char *avail[8]; /* the available peers, filled in main */
static int navail;

static double uniform(unsigned long long *s) /* in [-1, 1), fixed seed */
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0 * 2 - 1;
}

/* One case in both precisions: the inputs and the naive form's outputs. */
typedef struct ref_case {
    double W[DOUT * M], x[T * B * DIN], dy[T * B * DOUT];
    double y[T * B * DOUT], dW[DOUT * M], dx[T * B * DIN];
    float Wf[DOUT * M], xf[T * B * DIN], dyf[T * B * DOUT];
    float yf[T * B * DOUT], dWf[DOUT * M], dxf[T * B * DIN];
} ref_case;

static void make_case(ref_case *c)
{
    unsigned long long s = 2024;
    for (int i = 0; i < DOUT * M; i++)
        c->Wf[i] = (float)(c->W[i] = 0.5 * uniform(&s));
    for (int i = 0; i < T * B * DIN; i++)
        c->xf[i] = (float)(c->x[i] = uniform(&s));
    for (int i = 0; i < T * B * DOUT; i++)
        c->dyf[i] = (float)(c->dy[i] = uniform(&s));

    bptt_net *net;
    bptt_workspace *ws;
    bpttf_workspace *wsf;
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL,
                                             &net), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_alloc(net, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bpttf_workspace_alloc(net, T, B, &wsf), BPTT_OK);
    ck_assert_int_eq(bptt_forward(net, T, B, c->W, M, NULL, c->x, DIN, NULL,
                                  0, c->y, DOUT, BPTT_ALGO_NAIVE, ws), BPTT_OK);
    ck_assert_int_eq(bptt_backward(net, T, B, c->W, M, c->dy, DOUT, 0.0,
                                   c->dW, M, NULL, c->dx, DIN, NULL, 0,
                                   BPTT_ALGO_NAIVE, ws), BPTT_OK);
    ck_assert_int_eq(bpttf_forward(net, T, B, c->Wf, M, NULL, c->xf, DIN,
                                   NULL, 0, c->yf, DOUT, BPTT_ALGO_NAIVE, wsf),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_backward(net, T, B, c->Wf, M, c->dyf, DOUT, 0.0f,
                                    c->dWf, M, NULL, c->dxf, DIN, NULL, 0,
                                    BPTT_ALGO_NAIVE, wsf), BPTT_OK);
    bpttf_workspace_free(wsf);
    bptt_workspace_free(ws);
    bptt_net_free(net);
}

/* Normwise relative difference max|a − b| / max|b| of n elements of
 * elsize bytes. */
static double relerr(size_t n, size_t elsize, const void *a, const void *b)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        const double u = elsize == 8 ? ((const double *)a)[i]
                                     : ((const float *)a)[i];
        const double v = elsize == 8 ? ((const double *)b)[i]
                                     : ((const float *)b)[i];
        num = fmax(num, fabs(u - v));
        den = fmax(den, fabs(v));
    }
    return den > 0 ? num / den : num;
}

/* Run peer on the case in precision elsize, with one untimed warm-up and
 * budget_ms / cap as given; returns the status, out's arrays malloc'd. */
static int run_peer(const char *peer, const ref_case *c, size_t elsize,
                    double budget_ms, size_t cap, peer_output *out,
                    double *samples)
{
    const int dbl = elsize == 8;
    peer_input in = {
        .din = DIN, .dout = DOUT, .T = T, .B = B, .elsize = elsize,
        .W = dbl ? (const void *)c->W : (const void *)c->Wf,
        .x = dbl ? (const void *)c->x : (const void *)c->xf,
        .dy = dbl ? (const void *)c->dy : (const void *)c->dyf,
        .budget_ms = budget_ms, .threads = 1, .warmup = 1, .cap = cap,
    };
    memset(out, 0, sizeof *out);
    out->y = malloc(T * B * DOUT * elsize);
    out->dW = malloc(DOUT * M * elsize);
    out->dx = malloc(T * B * DIN * elsize);
    ck_assert(out->y && out->dW && out->dx);
    for (int p = 0; samples && p < PEER_NPASS; p++)
        out->samples[p] = samples + p * cap;
    char err[512];
    const int st = bptt_peer_run(peer, &in, out, err, sizeof err);
    if (st != PEER_OK)
        fprintf(stderr, "%s (%zu-byte reals): %s\n", peer, elsize, err);
    return st;
}

static void free_out(peer_output *out)
{
    free(out->y);
    free(out->dW);
    free(out->dx);
}

static void check_against_naive(const char *peer, size_t elsize)
{
    static ref_case c;
    make_case(&c);
    peer_output out;
    ck_assert_int_eq(run_peer(peer, &c, elsize, 0, 1, &out, NULL), PEER_OK);
    const double tol = elsize == 8 ? TOL_DOUBLE : TOL_FLOAT;
    const int dbl = elsize == 8;
    const double ey = relerr(T * B * DOUT, elsize, out.y, dbl ? (void *)c.y
                                                              : (void *)c.yf);
    const double eW = relerr(DOUT * M, elsize, out.dW, dbl ? (void *)c.dW
                                                           : (void *)c.dWf);
    const double ex = relerr(T * B * DIN, elsize, out.dx, dbl ? (void *)c.dx
                                                              : (void *)c.dxf);
    ck_assert_msg(ey <= tol, "%s y: relative error %g > %g", peer, ey, tol);
    ck_assert_msg(eW <= tol, "%s dW: relative error %g > %g", peer, eW, tol);
    ck_assert_msg(ex <= tol, "%s dx: relative error %g > %g", peer, ex, tol);
    ck_assert_uint_eq(out.reps, 1);
    ck_assert(out.version[0] != '\0');
    free_out(&out);
}

START_TEST(test_float_against_naive)
{
    check_against_naive(avail[_i], 4);
}
END_TEST

START_TEST(test_double_against_naive)
{
    check_against_naive(avail[_i], 8);
}
END_TEST

/* oneDNN's RNN primitive is f32 only: the runner must say so. */
START_TEST(test_onednn_refuses_double)
{
    static ref_case c;
    make_case(&c);
    peer_output out;
    ck_assert_int_eq(run_peer("onednn", &c, 8, 0, 1, &out, NULL),
                     PEER_UNSUPPORTED);
    free_out(&out);
}
END_TEST

/* With a budget no run reaches, the cap ends the repetitions; every
 * sample's forward+backward time is the sum of its parts, and each
 * summary lies within its samples' range. */
START_TEST(test_reps_and_samples)
{
    enum { CAP = 3 };
    static ref_case c;
    make_case(&c);
    peer_output out;
    double samples[PEER_NPASS * CAP];
    ck_assert_int_eq(run_peer(avail[_i], &c, 4, 1e12, CAP, &out, samples),
                     PEER_OK);
    ck_assert_uint_eq(out.reps, CAP);
    for (int r = 0; r < CAP; r++) {
        const double f = samples[r], b = samples[CAP + r],
                     fb = samples[2 * CAP + r];
        ck_assert(f > 0 && b > 0);
        ck_assert_double_eq_tol(fb, f + b, 1e-9 * fb);
    }
    for (int p = 0; p < PEER_NPASS; p++) {
        const peer_timing t = out.time[p];
        ck_assert(t.min <= t.median && t.median <= t.max);
        double lo = samples[p * CAP], hi = lo;
        for (int r = 1; r < CAP; r++) {
            lo = fmin(lo, samples[p * CAP + r]);
            hi = fmax(hi, samples[p * CAP + r]);
        }
        ck_assert_double_eq(t.min, lo);
        ck_assert_double_eq(t.max, hi);
    }
    free_out(&out);
}
END_TEST

/* A gated cell (_i: 0 LSTM, 1 GRU) through the peer against bptt's naive
 * gated form, in float and, for torch, double. */
static void check_gated(const char *peer, bptt_cell cell, size_t elsize)
{
    enum { GMAX = 4 };
    const size_t G = bptt_gated_gates(cell), Gn = G * DOUT;
    static double W[GMAX * DOUT * M], b[2 * GMAX * DOUT], x[T * B * DIN],
        dy[T * B * DOUT], y[T * B * DOUT], dW[GMAX * DOUT * M],
        dx[T * B * DIN];
    static float Wf[GMAX * DOUT * M], bf[2 * GMAX * DOUT], xf[T * B * DIN],
        dyf[T * B * DOUT], yf[T * B * DOUT], dWf[GMAX * DOUT * M],
        dxf[T * B * DIN];
    unsigned long long s = 2025 + (unsigned)cell;
    for (size_t i = 0; i < Gn * M; i++)
        Wf[i] = (float)(W[i] = 0.4 * uniform(&s));
    for (size_t i = 0; i < 2 * Gn; i++)
        bf[i] = (float)(b[i] = 0.3 * uniform(&s));
    for (size_t i = 0; i < T * B * DIN; i++)
        xf[i] = (float)(x[i] = uniform(&s));
    for (size_t i = 0; i < T * B * DOUT; i++)
        dyf[i] = (float)(dy[i] = uniform(&s));
    const int dbl = elsize == 8;
    if (dbl) {
        bptt_gated_workspace *ws;
        ck_assert_int_eq(bptt_gated_workspace_alloc(cell, DIN, DOUT, T, B,
                                                    &ws), BPTT_OK);
        ck_assert_int_eq(bptt_gated_forward(T, B, W, M, W + DIN, M, b, b + Gn,
                                            x, DIN, NULL, 0, NULL, 0, y, DOUT,
                                            NULL, 0, BPTT_ALGO_NAIVE, ws),
                         BPTT_OK);
        ck_assert_int_eq(bptt_gated_backward(T, B, W, M, W + DIN, M, dy, DOUT,
                                             NULL, 0, 0, dW, M, dW + DIN, M,
                                             NULL, NULL, dx, DIN, NULL, 0,
                                             NULL, 0, BPTT_ALGO_NAIVE, ws),
                         BPTT_OK);
        bptt_gated_workspace_free(ws);
    } else {
        bpttf_gated_workspace *ws;
        ck_assert_int_eq(bpttf_gated_workspace_alloc(cell, DIN, DOUT, T, B,
                                                     &ws), BPTT_OK);
        ck_assert_int_eq(bpttf_gated_forward(T, B, Wf, M, Wf + DIN, M, bf,
                                             bf + Gn, xf, DIN, NULL, 0, NULL,
                                             0, yf, DOUT, NULL, 0,
                                             BPTT_ALGO_NAIVE, ws), BPTT_OK);
        ck_assert_int_eq(bpttf_gated_backward(T, B, Wf, M, Wf + DIN, M, dyf,
                                              DOUT, NULL, 0, 0, dWf, M,
                                              dWf + DIN, M, NULL, NULL, dxf,
                                              DIN, NULL, 0, NULL, 0,
                                              BPTT_ALGO_NAIVE, ws), BPTT_OK);
        bpttf_gated_workspace_free(ws);
    }
    const peer_input in = {
        .din = DIN, .dout = DOUT, .T = T, .B = B, .elsize = elsize,
        .W = dbl ? (const void *)W : (const void *)Wf,
        .x = dbl ? (const void *)x : (const void *)xf,
        .dy = dbl ? (const void *)dy : (const void *)dyf,
        .budget_ms = 0, .threads = 1, .warmup = 1, .cap = 1,
        .cell = (unsigned)cell,
        .b = dbl ? (const void *)b : (const void *)bf,
    };
    peer_output out = {0};
    out.y = malloc(T * B * DOUT * elsize);
    out.dW = malloc(Gn * M * elsize);
    out.dx = malloc(T * B * DIN * elsize);
    ck_assert(out.y && out.dW && out.dx);
    char err[512];
    const int st = bptt_peer_run(peer, &in, &out, err, sizeof err);
    ck_assert_msg(st == PEER_OK, "%s %s: %s", peer, bptt_cell_name(cell),
                  err);
    const double tol = dbl ? TOL_DOUBLE : TOL_FLOAT;
    const double ey = relerr(T * B * DOUT, elsize, out.y,
                             dbl ? (void *)y : (void *)yf);
    const double eW = relerr(Gn * M, elsize, out.dW,
                             dbl ? (void *)dW : (void *)dWf);
    const double ex = relerr(T * B * DIN, elsize, out.dx,
                             dbl ? (void *)dx : (void *)dxf);
    ck_assert_msg(ey <= tol && eW <= tol && ex <= tol,
                  "%s %s: relative errors y %g, dW %g, dx %g > %g", peer,
                  bptt_cell_name(cell), ey, eW, ex, tol);
    free_out(&out);
}

START_TEST(test_gated_float_against_naive)
{
    check_gated(avail[_i / 2], _i % 2 ? BPTT_CELL_GRU : BPTT_CELL_LSTM, 4);
}
END_TEST

START_TEST(test_gated_double_against_naive)
{
    check_gated("torch", _i ? BPTT_CELL_GRU : BPTT_CELL_LSTM, 8);
}
END_TEST

START_TEST(test_unknown_peer)
{
    static ref_case c;
    make_case(&c);
    peer_output out;
    ck_assert_int_eq(bptt_peer_available("no-such-peer"), 0);
    ck_assert_int_eq(run_peer("no-such-peer", &c, 8, 0, 1, &out, NULL),
                     PEER_UNAVAILABLE);
    free_out(&out);
}
END_TEST

int main(void)
{
    int has_onednn = 0, has_torch = 0;
    for (size_t i = 0; bptt_peer_name(i); i++)
        if (bptt_peer_available(bptt_peer_name(i))) {
            avail[navail++] = bptt_peer_name(i);
            has_onednn |= strcmp(bptt_peer_name(i), "onednn") == 0;
            has_torch |= strcmp(bptt_peer_name(i), "torch") == 0;
            printf("peer %s: available\n", bptt_peer_name(i));
        } else {
            printf("peer %s: not available, not checked\n", bptt_peer_name(i));
        }
    if (navail == 0)
        return 77;

    Suite *s = suite_create("peers");
    TCase *tc = tcase_create("reference");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_float_against_naive, 0, navail);
    if (has_torch) /* torch is the only peer doing double */
        for (int i = 0; i < navail; i++)
            if (strcmp(avail[i], "torch") == 0)
                tcase_add_loop_test(tc, test_double_against_naive, i, i + 1);
    if (has_onednn)
        tcase_add_test(tc, test_onednn_refuses_double);
    tcase_add_loop_test(tc, test_reps_and_samples, 0, navail);
    tcase_add_loop_test(tc, test_gated_float_against_naive, 0, 2 * navail);
    if (has_torch)
        tcase_add_loop_test(tc, test_gated_double_against_naive, 0, 2);
    tcase_add_test(tc, test_unknown_peer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
