/*
 * Schedule tests: the planner's forward-step count against an exhaustive
 * search (T <= 30); every segment length and slot count, and budgets from
 * the minimum to full storage, give the full-storage gradient (reference,
 * both precisions); the schedule's bytes follow the documented formula and
 * stay within the budget (identity); a failing loss callback and every bad
 * argument return their status and write nothing (trap); truncated BPTT
 * with h = h' = T is full BPTT (identity); pieces restaged from the kept y
 * give bitwise the gradient of the same pieces run forward (identity).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* The planner against an exhaustive search                                  */
/* ------------------------------------------------------------------------ */

/* The model: n segments of L steps (the last shorter), checkpoints at
 * segment starts (segment 0's start is y0, free), at most M stored.  A
 * move either runs forward from a stored start c to a new start p and
 * stores it (a free slot needed), or runs forward from a stored start c to
 * the start of the last unreversed segment e-1 and reverses it (its forward
 * again, its backward).  A checkpoint is kept until the backward passes
 * it.  The least forward steps over all move sequences, by memoised
 * search over (stored set, frontier). */
typedef struct bf {
    size_t T, L, n, M;
    uint64_t *key;
    uint32_t *val;
    size_t cap;
} bf;

static size_t bf_span(const bf *b, size_t a, size_t e)
{
    return (e * b->L < b->T ? e * b->L : b->T) - a * b->L;
}

static uint32_t bf_solve(bf *b, uint32_t S, size_t e)
{
    if (e == 0)
        return 0;
    const uint64_t k = ((uint64_t)S << 6 | e) + 1;
    size_t h = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 40) % b->cap;
    while (b->key[h] && b->key[h] != k)
        h = (h + 1) % b->cap;
    if (b->key[h] == k)
        return b->val[h];
    uint32_t best = UINT32_MAX;
    const int stored = __builtin_popcount(S);
    for (size_t c = 0; c < e; c++) {
        if (c > 0 && !(S >> c & 1))
            continue;
        /* reverse segment e-1 from c */
        uint32_t S2 = S & ~(UINT32_C(1) << (e - 1));
        uint32_t v = (uint32_t)bf_span(b, c, e) + bf_solve(b, S2, e - 1);
        best = v < best ? v : best;
        if ((size_t)stored < b->M)
            for (size_t p = c + 1; p + 1 < e + 1 && p < e; p++)
                if (!(S >> p & 1)) {
                    v = (uint32_t)bf_span(b, c, p) +
                        bf_solve(b, S | UINT32_C(1) << p, e);
                    best = v < best ? v : best;
                }
    }
    /* the table may have been rehashed by the recursion: find k again */
    h = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 40) % b->cap;
    while (b->key[h] && b->key[h] != k)
        h = (h + 1) % b->cap;
    b->key[h] = k;
    b->val[h] = best;
    return best;
}

static size_t brute_force(size_t T, size_t L, size_t M)
{
    bf b = {T, L, (T + L - 1) / L, M, NULL, NULL, (size_t)1 << 18};
    b.key = calloc(b.cap, sizeof *b.key);
    b.val = calloc(b.cap, sizeof *b.val);
    size_t r = bf_solve(&b, 0, b.n);
    free(b.key);
    free(b.val);
    return r;
}

START_TEST(planner_brute_force)
{
    for (size_t T = 1; T <= 30; T++)
        for (size_t L = 1; L <= 3; L++)
            for (size_t M = 0; M <= 3; M++) {
                if (L > 1 && T % 3 != 0 && T % 7 != 0)
                    continue; /* a sample of the longer segments */
                size_t steps = 0;
                ck_assert_int_eq(bptt_schedule_cost(T, L, M, &steps), BPTT_OK);
                ck_assert_msg(steps == brute_force(T, L, M),
                              "T=%zu L=%zu M=%zu: planner %zu, search %zu", T,
                              L, M, steps, brute_force(T, L, M));
            }
}
END_TEST

/* Identities of the count: no slot, every step from y0; slots enough for
 * every segment start, each step twice but the last segment's once; full
 * storage, T. */
START_TEST(planner_identities)
{
    size_t s;
    ck_assert_int_eq(bptt_schedule_cost(20, 1, 0, &s), BPTT_OK);
    ck_assert_uint_eq(s, 20 * 21 / 2);
    ck_assert_int_eq(bptt_schedule_cost(100, 10, 9, &s), BPTT_OK);
    ck_assert_uint_eq(s, 190);
    ck_assert_int_eq(bptt_schedule_cost(100, 10, 500, &s), BPTT_OK);
    ck_assert_uint_eq(s, 190);
    ck_assert_int_eq(bptt_schedule_cost(100, 100, 0, &s), BPTT_OK);
    ck_assert_uint_eq(s, 100);
    /* Revolve's count: with one slot (and y0), T = 1000 steps in segments
     * of 1 cost no more than the binomial bound allows for r = ... just
     * fewer than with none. */
    size_t s0, s1;
    ck_assert_int_eq(bptt_schedule_cost(1000, 1, 0, &s0), BPTT_OK);
    ck_assert_int_eq(bptt_schedule_cost(1000, 1, 1, &s1), BPTT_OK);
    ck_assert_uint_lt(s1, s0);
    TU_REFUSED(bptt_schedule_cost(0, 1, 0, &s), BPTT_ESIZE, NULL);
    TU_REFUSED(bptt_schedule_cost(5, 0, 0, &s), BPTT_ESIZE, NULL);
    TU_REFUSED(bptt_schedule_cost(5, 1, 0, NULL), BPTT_ENULL, NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The executor against full storage                                         */
/* ------------------------------------------------------------------------ */

enum { DIN = 3, DOUT = 5 };

static size_t up(size_t n) { return (n + 63) & ~(size_t)63; }

/* The documented formula of a schedule's bytes, pieces of I steps. */
static size_t formula(const bptt_net *net, size_t r, size_t T, size_t B,
                      size_t L, size_t M, size_t I)
{
    const size_t n = (T + L - 1) / L, dout = bptt_net_dout(net),
                 m = bptt_net_din(net) + dout;
    size_t ws;
    if (r == sizeof(double))
        ck_assert_int_eq(bptt_workspace_size(net, I, B, &ws), BPTT_OK);
    else
        ck_assert_int_eq(bpttf_workspace_size(net, I, B, &ws), BPTT_OK);
    return 256 + up(ws) + up(r * L * B * dout) + up(r * I * B * dout) +
           up(r * M * B * dout) +
           3 * up(r * B * dout) + up(r * dout * (m + 1)) +
           up(4 * (n + 1) * (M + 1));
}

/* Run s (double) on p and compare every output with full storage g. */
static void check_against(bptt_schedule *s, const tu_problem *p,
                          const tu_grads *g, double beta, const char *what)
{
    const size_t T = p->T, B = p->B;
    double *dW = calloc(p->dout * p->ldw, sizeof *dW);
    double *db = calloc(p->dout, sizeof *db);
    double *dx = calloc(T * B * p->ldx, sizeof *dx);
    double *dy0 = calloc(B * p->ldy0, sizeof *dy0);
    double *yT = calloc(B * p->ldy0, sizeof *yT);
    double loss = -1;
    if (beta != 0) { /* beta = 1 on zeros adds the gradient to nothing */
        ck_assert(beta == 1);
    } else { /* beta = 0 must not read the old contents */
        for (size_t i = 0; i < p->dout * p->ldw; i++)
            dW[i] = NAN;
        for (size_t i = 0; i < T * B * p->ldx; i++)
            dx[i] = NAN;
    }
    ck_assert_int_eq(bptt_schedule_run_squared(s, p->W, p->ldw, p->b, p->x,
                                               p->ldx, p->y0, p->ldy0,
                                               p->target, p->ldy, p->mask,
                                               beta, dW, p->ldw, db, dx,
                                               p->ldx, dy0, p->ldy0, yT,
                                               p->ldy0, &loss),
                     BPTT_OK);
    const double tol = 1e-13;
    ck_assert_msg(fabs(loss - g->loss) <= tol * fabs(g->loss), "%s: loss", what);
    ck_assert_msg(tu_relerr(p->dout, p->m, dW, p->ldw, g->dW, p->ldw) <= tol,
                  "%s: dW %g", what,
                  tu_relerr(p->dout, p->m, dW, p->ldw, g->dW, p->ldw));
    ck_assert_msg(tu_relerr(1, p->dout, db, p->dout, g->db, p->dout) <= tol,
                  "%s: db", what);
    ck_assert_msg(tu_relerr(T * B, p->din, dx, p->ldx, g->dx, p->ldx) <= tol,
                  "%s: dx", what);
    ck_assert_msg(tu_relerr(B, p->dout, dy0, p->ldy0, g->dy0, p->ldy0) <= tol,
                  "%s: dy0", what);
    ck_assert_msg(tu_relerr(B, p->dout, yT, p->ldy0,
                            g->y + (T - 1) * B * p->ldy, p->ldy) == 0,
                  "%s: y(T)", what);
    free(dW);
    free(db);
    free(dx);
    free(dy0);
    free(yT);
}

/* With one segment the schedule runs full BPTT's operations: dW, db, dx,
 * dy0 and the loss bitwise equal. */
static void check_bitwise(bptt_schedule *s, const tu_problem *p,
                          const tu_grads *g)
{
    const size_t T = p->T, B = p->B;
    double *dW = calloc(p->dout * p->ldw, sizeof *dW);
    double *db = calloc(p->dout, sizeof *db);
    double *dx = calloc(T * B * p->ldx, sizeof *dx);
    double *dy0 = calloc(B * p->ldy0, sizeof *dy0);
    double loss;
    ck_assert_int_eq(bptt_schedule_run_squared(s, p->W, p->ldw, p->b, p->x,
                                               p->ldx, p->y0, p->ldy0,
                                               p->target, p->ldy, p->mask, 0,
                                               dW, p->ldw, db, dx, p->ldx, dy0,
                                               p->ldy0, NULL, 0, &loss),
                     BPTT_OK);
    ck_assert(loss == g->loss);
    ck_assert(tu_relerr(p->dout, p->m, dW, p->ldw, g->dW, p->ldw) == 0);
    ck_assert(tu_relerr(1, p->dout, db, p->dout, g->db, p->dout) == 0);
    ck_assert(tu_relerr(T * B, p->din, dx, p->ldx, g->dx, p->ldx) == 0);
    ck_assert(tu_relerr(B, p->dout, dy0, p->ldy0, g->dy0, p->ldy0) == 0);
    free(dW);
    free(db);
    free(dx);
    free(dy0);
}

/* Every segment length and slot count of a T = 13 problem. */
START_TEST(every_schedule)
{
    const size_t T = 13, B = 1 + (size_t)_i;
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, 2,
                                   TU_BIAS | TU_Y0 | TU_MASK, 40 + _i);
    tu_grads g;
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_AUTO, &g), BPTT_OK);
    for (size_t L = 1; L <= T; L++)
        for (size_t M = 0; M <= T; M++) {
            bptt_schedule *s = NULL;
            ck_assert_int_eq(bptt_schedule_plan_fixed(p->net, T, B, L, M, &s),
                             BPTT_OK);
            bptt_schedule_info info;
            ck_assert_int_eq(bptt_schedule_info_get(s, &info), BPTT_OK);
            const size_t n = (T + L - 1) / L, Mc = M < n - 1 ? M : n - 1;
            ck_assert_uint_eq(info.slots, Mc);
            ck_assert_uint_eq(info.bytes,
                              formula(p->net, sizeof(double), T, B, L, Mc, L));
            size_t steps;
            ck_assert_int_eq(bptt_schedule_cost(T, L, M, &steps), BPTT_OK);
            ck_assert_uint_eq(info.forward_steps, steps);
            char what[64];
            snprintf(what, sizeof what, "B=%zu L=%zu M=%zu", B, L, M);
            check_against(s, p, &g, (L + M) % 2 ? 1.0 : 0.0, what);
            if (L == T) /* one segment: full BPTT's operations, bitwise */
                check_bitwise(s, p, &g);
            bptt_schedule_free(s);
        }
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* A net whose every unit's f' follows from y (tanh, logistic, identity,
 * ReLU, interleaved), so that pieces shorter than the segment are
 * restaged. */
static bptt_net *derivable_net(size_t din, size_t dout)
{
    static const bptt_activation cycle[4] = {
        BPTT_ACT_TANH, BPTT_ACT_RELU, BPTT_ACT_LOGISTIC, BPTT_ACT_IDENTITY};
    bptt_activation act[DOUT];
    ck_assert_uint_le(dout, DOUT);
    for (size_t i = 0; i < dout; i++)
        act[i] = cycle[i % 4];
    bptt_net *net = NULL;
    ck_assert_int_eq(bptt_net_create(din, dout, act, NULL, &net), BPTT_OK);
    return net;
}

/* Budgets from the minimum to full storage: within the budget, exact; on
 * the derivable net (_i = 1) the planner may take pieces shorter than the
 * segments (its call cost keeps them long on so small a net: the pieces
 * test below forces them). */
START_TEST(every_budget)
{
    const size_t T = 40, B = 2;
    tu_problem *p = tu_problem_new(_i ? derivable_net(DIN, DOUT)
                                      : tu_mixed_net(DIN, DOUT),
                                   T, B, 0, TU_BIAS | TU_MASK, 77);
    tu_grads g;
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_AUTO, &g), BPTT_OK);
    size_t minb, full;
    ck_assert_int_eq(bptt_schedule_min_bytes(p->net, T, B, &minb), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_size(p->net, T, B, &full), BPTT_OK);
    ck_assert_uint_eq(minb, formula(p->net, sizeof(double), T, B, 1, 0, 1));
    size_t prev_steps = SIZE_MAX;
    for (size_t budget = minb; budget <= 2 * full; budget += (budget / 8)) {
        bptt_schedule *s = NULL;
        ck_assert_int_eq(bptt_schedule_plan(p->net, T, B, budget, &s), BPTT_OK);
        bptt_schedule_info info;
        ck_assert_int_eq(bptt_schedule_info_get(s, &info), BPTT_OK);
        ck_assert_uint_le(info.bytes, budget);
        ck_assert_uint_le(info.piece, info.seg);
        ck_assert_uint_eq(info.bytes, formula(p->net, sizeof(double), T, B,
                                              info.seg, info.slots,
                                              info.piece));
        /* full storage's count is the floor */
        ck_assert_uint_ge(info.forward_steps, T);
        prev_steps = info.forward_steps;
        char what[64];
        snprintf(what, sizeof what, "budget %zu", budget);
        check_against(s, p, &g, 0.0, what);
        bptt_schedule_free(s);
    }
    ck_assert_uint_eq(prev_steps, T); /* twice full storage: no recompute */
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* All of a schedule's outputs (dW, db, dx, dy0, y(T), loss) in one array,
 * beta = 0. */
static double *run_all(bptt_schedule *s, const tu_problem *p)
{
    const size_t T = p->T, B = p->B, nW = p->dout * p->ldw,
                 nx = T * B * p->ldx, n0 = B * p->ldy0;
    double *o = calloc(nW + p->dout + nx + 2 * n0 + 1, sizeof *o);
    double *dW = o, *db = dW + nW, *dx = db + p->dout, *dy0 = dx + nx,
           *yT = dy0 + n0, *loss = yT + n0;
    ck_assert_int_eq(bptt_schedule_run_squared(s, p->W, p->ldw, p->b, p->x,
                                               p->ldx, p->y0, p->ldy0,
                                               p->target, p->ldy, p->mask, 0,
                                               dW, p->ldw, db, dx, p->ldx, dy0,
                                               p->ldy0, yT, p->ldy0, loss),
                     BPTT_OK);
    return o;
}

/* Pieces: every segment length L, piece I and a few slot counts give the
 * full-storage gradient; when I divides L the pieces are the segments of
 * plan_fixed(I) (the same calls on the same states), so a restaged piece's
 * backward must give bitwise what it gives after the piece's forward:
 * the restaged s(t) and f'(z) are the forward's bits. */
START_TEST(pieces)
{
    const size_t T = 13, B = 1 + (size_t)_i, dout = DOUT;
    tu_problem *p = tu_problem_new(derivable_net(DIN, dout), T, B, 1,
                                   TU_BIAS | (_i ? TU_Y0 : 0) | TU_MASK,
                                   60 + _i);
    tu_grads g;
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_AUTO, &g), BPTT_OK);
    const size_t n = T * B * p->ldx + p->dout * p->ldw + p->dout +
                     2 * B * p->ldy0 + 1;
    for (size_t I = 1; I <= T; I++) {
        bptt_schedule *ref = NULL;
        ck_assert_int_eq(bptt_schedule_plan_fixed(p->net, T, B, I, T, &ref),
                         BPTT_OK);
        double *want = run_all(ref, p);
        bptt_schedule_free(ref);
        for (size_t L = I; L <= T; L++)
            for (size_t M = 0; M <= 2; M++) {
                bptt_schedule *s = NULL;
                ck_assert_int_eq(bptt_schedule_plan_pieces(p->net, T, B, L, M,
                                                           I, &s),
                                 BPTT_OK);
                bptt_schedule_info info;
                ck_assert_int_eq(bptt_schedule_info_get(s, &info), BPTT_OK);
                ck_assert_uint_eq(info.piece, I);
                ck_assert_uint_eq(info.bytes,
                                  formula(p->net, sizeof(double), T, B, L,
                                          info.slots, I));
                char what[64];
                snprintf(what, sizeof what, "B=%zu L=%zu M=%zu I=%zu", B, L,
                         M, I);
                check_against(s, p, &g, 0.0, what);
                if (L % I == 0) {
                    double *got = run_all(s, p);
                    ck_assert_msg(!memcmp(got, want, n * sizeof *got),
                                  "%s: not bitwise plan_fixed(I)", what);
                    free(got);
                }
                bptt_schedule_free(s);
            }
        free(want);
    }
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* Single precision against bpttf_forward/backward with full storage. */
START_TEST(single_precision)
{
    const size_t T = 17, B = 3, din = DIN, dout = DOUT, m = DIN + DOUT;
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, 0,
                                   TU_BIAS | TU_Y0, 91);
    float *W = tu_to_float(p->W, dout * m), *b = tu_to_float(p->b, dout),
          *x = tu_to_float(p->x, T * B * din),
          *y0 = tu_to_float(p->y0, B * dout),
          *tg = tu_to_float(p->target, T * B * dout);
    float *y = calloc(T * B * dout, sizeof *y), *dy = calloc(T * B * dout, 4);
    float *dW[2], *db[2], *dx[2], *dy0[2];
    for (int k = 0; k < 2; k++) {
        dW[k] = calloc(dout * m, 4);
        db[k] = calloc(dout, 4);
        dx[k] = calloc(T * B * din, 4);
        dy0[k] = calloc(B * dout, 4);
    }
    bpttf_workspace *ws;
    double loss[2];
    ck_assert_int_eq(bpttf_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bpttf_forward(p->net, T, B, W, m, b, x, din, y0, dout, y,
                                   dout, BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_int_eq(bpttf_loss_squared(T, B, dout, y, dout, tg, dout, NULL,
                                        &loss[0], dy, dout), BPTT_OK);
    ck_assert_int_eq(bpttf_backward(p->net, T, B, W, m, dy, dout, 0, dW[0], m,
                                    db[0], dx[0], din, dy0[0], dout,
                                    BPTT_ALGO_AUTO, ws), BPTT_OK);
    bpttf_workspace_free(ws);
    bpttf_schedule *s;
    size_t minb;
    ck_assert_int_eq(bpttf_schedule_min_bytes(p->net, T, B, &minb), BPTT_OK);
    ck_assert_int_eq(bpttf_schedule_plan(p->net, T, B, minb * 3, &s), BPTT_OK);
    bptt_schedule_info info;
    ck_assert_int_eq(bpttf_schedule_info_get(s, &info), BPTT_OK);
    ck_assert_uint_le(info.bytes, minb * 3);
    ck_assert_uint_eq(info.bytes, formula(p->net, sizeof(float), T, B,
                                          info.seg, info.slots, info.piece));
    ck_assert_uint_gt(info.forward_steps, T); /* it does recompute */
    ck_assert_int_eq(bpttf_schedule_run_squared(s, W, m, b, x, din, y0, dout,
                                                tg, dout, NULL, 0, dW[1], m,
                                                db[1], dx[1], din, dy0[1],
                                                dout, NULL, 0, &loss[1]),
                     BPTT_OK);
    bpttf_schedule_free(s);
    double *a = malloc(T * B * din * sizeof *a), *c = malloc(T * B * din * 8);
    const float *pairs[4][2] = {{dW[0], dW[1]}, {db[0], db[1]},
                                {dx[0], dx[1]}, {dy0[0], dy0[1]}};
    const size_t rows[4] = {dout, 1, T * B, B}, cols[4] = {m, dout, din, dout};
    for (int k = 0; k < 4; k++) {
        tu_from_float(pairs[k][0], rows[k] * cols[k], a);
        tu_from_float(pairs[k][1], rows[k] * cols[k], c);
        ck_assert_msg(tu_relerr(rows[k], cols[k], c, cols[k], a, cols[k]) <=
                          1e-5, "array %d", k);
    }
    ck_assert(fabs(loss[1] - loss[0]) <= 1e-5 * fabs(loss[0]));
    free(a);
    free(c);
    for (int k = 0; k < 2; k++) {
        free(dW[k]);
        free(db[k]);
        free(dx[k]);
        free(dy0[k]);
    }
    free(W); free(b); free(x); free(y0); free(tg); free(y); free(dy);
    tu_problem_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The loss callback                                                         */
/* ------------------------------------------------------------------------ */

/* L = Σ ½ c·‖y‖² with a per-step weight c = 1 + t/10: dL/dy = c·y.  Fails
 * with `fail` when asked for step fail_at. */
typedef struct cb {
    size_t dout, fail_at, calls;
    bptt_status fail;
} cb;

static bptt_status weighted(void *ctx, size_t t0, size_t n, size_t B,
                            const double *y, size_t ldy, double *dy,
                            size_t lddy, double *loss)
{
    cb *c = ctx;
    c->calls++;
    if (c->fail != BPTT_OK && t0 <= c->fail_at && c->fail_at < t0 + n)
        return c->fail;
    for (size_t k = 0; k < n; k++) {
        const double w = 1 + (double)(t0 + k) / 10;
        for (size_t bb = 0; bb < B; bb++)
            for (size_t j = 0; j < c->dout; j++) {
                const double v = y[(k * B + bb) * ldy + j];
                dy[(k * B + bb) * lddy + j] = w * v;
                *loss += 0.5 * w * v * v;
            }
    }
    return BPTT_OK;
}

START_TEST(callback_loss)
{
    const size_t T = 23, B = 2, dout = DOUT, m = DIN + DOUT;
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, 0,
                                   TU_BIAS | TU_Y0, 5);
    /* full storage with the same loss */
    bptt_workspace *ws;
    double *y = calloc(T * B * dout, 8), *dy = calloc(T * B * dout, 8);
    double *dW0 = calloc(dout * m, 8), *dx0 = calloc(T * B * DIN, 8);
    double loss0 = 0;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_forward(p->net, T, B, p->W, m, p->b, p->x, DIN,
                                  p->y0, dout, y, dout, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    cb c = {dout, 0, 0, BPTT_OK};
    ck_assert_int_eq(weighted(&c, 0, T, B, y, dout, dy, dout, &loss0), BPTT_OK);
    ck_assert_int_eq(bptt_backward(p->net, T, B, p->W, m, dy, dout, 0, dW0, m,
                                   NULL, dx0, DIN, NULL, 0, BPTT_ALGO_AUTO,
                                   ws), BPTT_OK);
    bptt_workspace_free(ws);

    bptt_schedule *s;
    ck_assert_int_eq(bptt_schedule_plan_fixed(p->net, T, B, 4, 2, &s), BPTT_OK);
    double *dW = calloc(dout * m, 8), *dx = calloc(T * B * DIN, 8), loss;
    c.calls = 0;
    ck_assert_int_eq(bptt_schedule_run(s, p->W, m, p->b, p->x, DIN, p->y0,
                                       dout, weighted, &c, 0, dW, m, NULL, dx,
                                       DIN, NULL, 0, NULL, 0, &loss), BPTT_OK);
    ck_assert_uint_eq(c.calls, 6); /* once per segment */
    ck_assert(fabs(loss - loss0) <= 1e-13 * loss0);
    ck_assert(tu_relerr(dout, m, dW, m, dW0, m) <= 1e-13);
    ck_assert(tu_relerr(T * B, DIN, dx, DIN, dx0, DIN) <= 1e-13);

    /* A failing callback: its status comes back; dW, db, dy0, y(T) and the
     * loss are not written. */
    double db[DOUT] = {0}, dy0[2 * DOUT] = {0}, yT[2 * DOUT] = {0};
    for (size_t at = 0; at < T; at += 7) {
        c = (cb){dout, at, 0, BPTT_ENONFINITE};
        tu_snap sn = {0};
        tu_snap_add(&sn, dW, dout * m * 8);
        tu_snap_add(&sn, db, sizeof db);
        tu_snap_add(&sn, dy0, sizeof dy0);
        tu_snap_add(&sn, yT, sizeof yT);
        tu_snap_add(&sn, &loss, sizeof loss);
        TU_REFUSED(bptt_schedule_run(s, p->W, m, p->b, p->x, DIN, p->y0, dout,
                                     weighted, &c, 1, dW, m, db, dx, DIN, dy0,
                                     dout, yT, dout, &loss),
                   BPTT_ENONFINITE, &sn);
        tu_snap_free(&sn);
    }
    bptt_schedule_free(s);
    free(y); free(dy); free(dW0); free(dx0); free(dW); free(dx);
    tu_problem_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Traps                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(traps)
{
    const size_t T = 9, B = 2, dout = DOUT, m = DIN + DOUT;
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, 0, 0, 3);
    bptt_schedule *s = (bptt_schedule *)&s, *keep = s;
    size_t minb, sz = 7;
    ck_assert_int_eq(bptt_schedule_min_bytes(p->net, T, B, &minb), BPTT_OK);
    TU_REFUSED(bptt_schedule_plan(p->net, T, B, minb - 1, &s), BPTT_EBUFFER,
               NULL);
    TU_REFUSED(bptt_schedule_plan(p->net, T, B, 0, &s), BPTT_EBUFFER, NULL);
    TU_REFUSED(bptt_schedule_plan(p->net, 0, B, minb, &s), BPTT_ESIZE, NULL);
    TU_REFUSED(bptt_schedule_plan(p->net, T, 0, minb, &s), BPTT_ESIZE, NULL);
    TU_REFUSED(bptt_schedule_plan(NULL, T, B, minb, &s), BPTT_ENULL, NULL);
    TU_REFUSED(bptt_schedule_plan(p->net, T, B, minb, NULL), BPTT_ENULL, NULL);
    TU_REFUSED(bptt_schedule_plan_fixed(p->net, T, B, 0, 1, &s), BPTT_ESIZE,
               NULL);
    TU_REFUSED(bptt_schedule_plan_fixed(p->net, T, B, T + 1, 1, &s),
               BPTT_EINVAL, NULL);
    /* pieces: 0, longer than L, or shorter with softplus and custom units
     * (the mixed net's f' does not follow from y) */
    TU_REFUSED(bptt_schedule_plan_pieces(p->net, T, B, 3, 1, 0, &s),
               BPTT_EINVAL, NULL);
    TU_REFUSED(bptt_schedule_plan_pieces(p->net, T, B, 3, 1, 4, &s),
               BPTT_EINVAL, NULL);
    TU_REFUSED(bptt_schedule_plan_pieces(p->net, T, B, 3, 1, 2, &s),
               BPTT_EINVAL, NULL);
    TU_REFUSED(bpttf_schedule_plan_pieces(p->net, T, B, 3, 1, 1,
                                          (bpttf_schedule **)&s),
               BPTT_EINVAL, NULL);
    TU_REFUSED(bptt_schedule_min_bytes(p->net, 0, B, &sz), BPTT_ESIZE, NULL);
    TU_REFUSED(bptt_schedule_min_bytes(p->net, T, B, NULL), BPTT_ENULL, NULL);
    TU_REFUSED(bpttf_schedule_plan(p->net, T, B, 1, (bpttf_schedule **)&s),
               BPTT_EBUFFER, NULL);
    ck_assert_ptr_eq(s, keep);
    ck_assert_uint_eq(sz, 7);

    ck_assert_int_eq(bptt_schedule_plan(p->net, T, B, minb, &s), BPTT_OK);
    double *dW = calloc(dout * m, 8), *dx = calloc(T * B * DIN, 8), loss = 3;
    tu_snap sn = {0};
    tu_snap_add(&sn, dW, dout * m * 8);
    tu_snap_add(&sn, dx, T * B * DIN * 8);
    tu_snap_add(&sn, &loss, sizeof loss);
#define RUN(W_, ldw_, x_, ldx_, beta_, lddw_)                                  \
    bptt_schedule_run_squared(s, W_, ldw_, NULL, x_, ldx_, NULL, 0, p->target, \
                              dout, NULL, beta_, dW, lddw_, NULL, dx, DIN,     \
                              NULL, 0, NULL, 0, &loss)
    TU_REFUSED(RUN(NULL, m, p->x, DIN, 0, m), BPTT_ENULL, &sn);
    TU_REFUSED(RUN(p->W, m, NULL, DIN, 0, m), BPTT_ENULL, &sn);
    TU_REFUSED(RUN(p->W, m - 1, p->x, DIN, 0, m), BPTT_ELD, &sn);
    TU_REFUSED(RUN(p->W, m, p->x, DIN - 1, 0, m), BPTT_ELD, &sn);
    TU_REFUSED(RUN(p->W, m, p->x, DIN, NAN, m), BPTT_EINVAL, &sn);
    TU_REFUSED(RUN(p->W, m, p->x, DIN, 0, m - 1), BPTT_ELD, &sn);
#undef RUN
    TU_REFUSED(bptt_schedule_run(s, p->W, m, NULL, p->x, DIN, NULL, 0, NULL,
                                 NULL, 0, dW, m, NULL, dx, DIN, NULL, 0, NULL,
                                 0, &loss), BPTT_ENULL, &sn);
    TU_REFUSED(bptt_schedule_run(NULL, p->W, m, NULL, p->x, DIN, NULL, 0,
                                 NULL, NULL, 0, dW, m, NULL, dx, DIN, NULL, 0,
                                 NULL, 0, &loss), BPTT_ENULL, &sn);
    bptt_schedule_info info;
    TU_REFUSED(bptt_schedule_info_get(NULL, &info), BPTT_ENULL, NULL);
    TU_REFUSED(bptt_schedule_info_get(s, NULL), BPTT_ENULL, NULL);
    tu_snap_free(&sn);
    bptt_schedule_free(s);
    bptt_schedule_free(NULL);
    bpttf_schedule_free(NULL);
    free(dW);
    free(dx);
    tu_problem_free(p);
}
END_TEST

/* The planner at the targets (memory only; time is bptt-bench-
 * schedule's): (256, 256, T, 32) within 5% of the full workspace at T =
 * 1000 and 1% at T = 10,000 recomputes at most 1.3 and 1.8 forward
 * passes (the planner trades steps for longer segments). */
START_TEST(planner_targets)
{
    bptt_net *net = tu_mixed_net(256, 256);
    const size_t Ts[2] = {1000, 10000}, share[2] = {20, 100},
                 bound[2] = {23, 28};
    for (int k = 0; k < 2; k++) {
        size_t full;
        ck_assert_int_eq(bptt_workspace_size(net, Ts[k], 32, &full), BPTT_OK);
        bptt_schedule *s;
        ck_assert_int_eq(bptt_schedule_plan(net, Ts[k], 32, full / share[k],
                                            &s), BPTT_OK);
        bptt_schedule_info info;
        ck_assert_int_eq(bptt_schedule_info_get(s, &info), BPTT_OK);
        ck_assert_uint_le(info.bytes, full / share[k]);
        ck_assert_msg(info.forward_steps <= bound[k] * Ts[k] / 10,
                      "T=%zu: L=%zu M=%zu steps=%zu", Ts[k], info.seg,
                      info.slots, info.forward_steps);
        bptt_schedule_free(s);
    }
    bptt_net_free(net);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Network B                                                                 */
/* ------------------------------------------------------------------------ */

/* Both heads, every few (L, M): the gradients of bptt_elman_forward and
 * _backward with full storage. */
START_TEST(elman_schedule)
{
    const bptt_head head = _i ? BPTT_HEAD_LINEAR : BPTT_HEAD_SOFTMAX;
    const size_t T = 14, B = 2, din = DIN, dh = DOUT, nout = 4, m = din + dh;
    bptt_net *net = tu_mixed_net(din, dh);
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(net, nout, head, &el), BPTT_OK);
    tu_rng r = {99 + (unsigned long long)_i};
    double *W = tu_random(dh * m, 0.5, &r), *bh = tu_random(dh, 0.3, &r);
    double *Wo = tu_random(nout * dh, 0.5, &r), *bo = tu_random(nout, 0.3, &r);
    double *x = tu_random(T * B * din, 1.0, &r), *h0 = tu_random(B * dh, 0.5, &r);
    double *Lt = head ? tu_random(T * B * nout, 1.0, &r) : NULL;
    int *labels = NULL;
    if (!head) {
        labels = malloc(T * B * sizeof *labels);
        for (size_t k = 0; k < T * B; k++)
            labels[k] = k % 5 == 3 ? BPTT_IGNORE_LABEL : (int)(k * 7 % nout);
    }
    double *g[2][6];
    const size_t len[6] = {dh * m, dh, nout * dh, nout, T * B * din, B * dh};
    for (int k = 0; k < 2; k++)
        for (int a = 0; a < 6; a++)
            g[k][a] = calloc(len[a], sizeof(double));
    double E0, E1;
    bptt_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_workspace_alloc(el, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_elman_forward(el, T, B, W, m, bh, Wo, dh, bo, x, din,
                                        h0, dh, labels, Lt, nout, &E0, NULL, 0,
                                        NULL, 0, BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_int_eq(bptt_elman_backward(el, T, B, W, m, Wo, dh, labels, Lt,
                                         nout, 0, g[0][0], m, g[0][1], g[0][2],
                                         dh, g[0][3], g[0][4], din, g[0][5], dh,
                                         BPTT_ALGO_AUTO, ws), BPTT_OK);
    bptt_elman_workspace_free(ws);
    const size_t rows[6] = {dh, 1, nout, 1, T * B, B},
                 cols[6] = {m, dh, dh, nout, din, dh};
    for (size_t L = 1; L <= T; L += 3)
        for (size_t M = 0; M <= 4; M += 2) {
            bptt_schedule *s;
            ck_assert_int_eq(bptt_schedule_elman_plan_fixed(el, T, B, L, M, &s),
                             BPTT_OK);
            ck_assert_int_eq(bptt_schedule_elman_run(
                                 s, el, W, m, bh, Wo, dh, bo, x, din, h0, dh,
                                 labels, Lt, nout, 0, g[1][0], m, g[1][1],
                                 g[1][2], dh, g[1][3], g[1][4], din, g[1][5],
                                 dh, &E1), BPTT_OK);
            ck_assert_msg(fabs(E1 - E0) <= 1e-13 * fabs(E0), "L=%zu E", L);
            for (int a = 0; a < 6; a++)
                ck_assert_msg(tu_relerr(rows[a], cols[a], g[1][a], cols[a],
                                        g[0][a], cols[a]) <= 1e-13,
                              "L=%zu M=%zu array %d: %g", L, M, a,
                              tu_relerr(rows[a], cols[a], g[1][a], cols[a],
                                        g[0][a], cols[a]));
            /* a Network A run or another descriptor: refused */
            if (L == 1 && M == 0) {
                bptt_elman *el2;
                ck_assert_int_eq(bptt_elman_create(net, nout + 1, head, &el2),
                                 BPTT_OK);
                tu_snap sn = {0};
                tu_snap_add(&sn, g[1][0], len[0] * 8);
                TU_REFUSED(bptt_schedule_elman_run(
                               s, el2, W, m, bh, Wo, dh, bo, x, din, h0, dh,
                               labels, Lt, nout, 0, g[1][0], m, NULL, NULL, 0,
                               NULL, NULL, 0, NULL, 0, NULL),
                           BPTT_EMISMATCH, &sn);
                TU_REFUSED(bptt_schedule_elman_run(
                               s, el, W, m, bh, NULL, dh, bo, x, din, h0, dh,
                               labels, Lt, nout, 0, g[1][0], m, NULL, NULL, 0,
                               NULL, NULL, 0, NULL, 0, NULL),
                           BPTT_ENULL, &sn);
                tu_snap_free(&sn);
                bptt_elman_free(el2);
            }
            bptt_schedule_free(s);
        }
    size_t minb;
    bptt_schedule *s;
    ck_assert_int_eq(bptt_schedule_elman_min_bytes(el, T, B, &minb), BPTT_OK);
    TU_REFUSED(bptt_schedule_elman_plan(el, T, B, minb - 1, &s), BPTT_EBUFFER,
               NULL);
    ck_assert_int_eq(bptt_schedule_elman_plan(el, T, B, minb, &s), BPTT_OK);
    bptt_schedule_info info;
    ck_assert_int_eq(bptt_schedule_info_get(s, &info), BPTT_OK);
    ck_assert_uint_eq(info.bytes, formula(net, 8, T, B, 1, 0, 1) +
                                      up(8 * (2 * B * nout + nout * (dh + 1))));
    bptt_schedule_free(s);
    for (int k = 0; k < 2; k++)
        for (int a = 0; a < 6; a++)
            free(g[k][a]);
    free(W); free(bh); free(Wo); free(bo); free(x); free(h0); free(Lt);
    free(labels);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Truncated BPTT(h; h')                                                     */
/* ------------------------------------------------------------------------ */

/* Squared error against a stream's targets (rows from t0), as a callback;
 * fails with `fail` if set. */
typedef struct sq {
    const double *target;
    size_t ldt, dout;
    bptt_status fail;
} sq;

static bptt_status sq_dy(void *ctx, size_t t0, size_t n, size_t B,
                         const double *y, size_t ldy, double *dy, size_t lddy,
                         double *loss)
{
    const sq *q = ctx;
    if (q->fail != BPTT_OK)
        return q->fail;
    double l;
    bptt_status st = bptt_loss_squared(n, B, q->dout, y, ldy,
                                       q->target + t0 * B * q->ldt, q->ldt,
                                       NULL, &l, dy, lddy);
    *loss += l;
    return st;
}

/* h = h' = T: one step after a reset is full BPTT, bitwise. */
START_TEST(tbptt_identity)
{
    const size_t T = 11, B = 2;
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, 1,
                                   TU_BIAS | TU_Y0, 12);
    tu_grads g;
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_AUTO, &g), BPTT_OK);
    bptt_tbptt *tb;
    ck_assert_int_eq(bptt_tbptt_alloc(p->net, T, T, B, &tb), BPTT_OK);
    ck_assert_int_eq(bptt_tbptt_reset(tb, p->y0, p->ldy0), BPTT_OK);
    double *dW = calloc(p->dout * p->ldw, 8), db[DOUT], loss;
    double *y = calloc(T * B * p->ldy, 8);
    sq q = {p->target, p->ldy, p->dout, BPTT_OK};
    ck_assert_int_eq(bptt_tbptt_step(tb, T, p->W, p->ldw, p->b, p->x, p->ldx,
                                     sq_dy, &q, 0, dW, p->ldw, db, y, p->ldy,
                                     &loss), BPTT_OK);
    ck_assert(loss == g.loss);
    ck_assert(tu_relerr(p->dout, p->m, dW, p->ldw, g.dW, p->ldw) == 0);
    ck_assert(tu_relerr(1, p->dout, db, p->dout, g.db, p->dout) == 0);
    ck_assert(tu_relerr(T * B, p->dout, y, p->ldy, g.y, p->ldy) == 0);
    bptt_tbptt_free(tb);
    free(dW);
    free(y);
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* h = 6, h' = 4 over 12 steps: each call's gradient is that of its window
 * from the state at the window's start, the older steps without loss; the
 * states are those of one forward over the stream; a failing callback
 * leaves the stream where it was. */
START_TEST(tbptt_stream)
{
    const size_t T = 12, B = 2, h = 6, hp = 4, dout = DOUT, m = DIN + DOUT;
    tu_problem *p = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, 0, TU_BIAS,
                                   21);
    tu_grads g; /* its y: the states of one forward over the stream */
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_AUTO, &g), BPTT_OK);
    bptt_tbptt *tb;
    ck_assert_int_eq(bptt_tbptt_alloc(p->net, h, hp, B, &tb), BPTT_OK);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, h, B, &ws), BPTT_OK);
    double dW[DOUT * (DIN + DOUT)] = {0}, db[DOUT], ref[DOUT * (DIN + DOUT)];
    double y[4 * 2 * DOUT] = {0}, yw[6 * 2 * DOUT], dy[6 * 2 * DOUT], loss = 0;
    sq q = {p->target, dout, dout, BPTT_OK};
    for (size_t c = 0; c < T / hp; c++) {
        const size_t e = (c + 1) * hp, s0 = e > h ? e - h : 0, w = e - s0;
        /* a failing callback first: nothing written, no advance */
        q.fail = BPTT_EINVAL;
        tu_snap sn = {0};
        tu_snap_add(&sn, dW, sizeof dW);
        tu_snap_add(&sn, y, sizeof y);
        tu_snap_add(&sn, &loss, sizeof loss);
        TU_REFUSED(bptt_tbptt_step(tb, hp, p->W, m, p->b,
                                   p->x + c * hp * B * DIN, DIN, sq_dy, &q, 0,
                                   dW, m, db, y, dout, &loss),
                   BPTT_EINVAL, &sn);
        tu_snap_free(&sn);
        q.fail = BPTT_OK;
        ck_assert_int_eq(bptt_tbptt_step(tb, hp, p->W, m, p->b,
                                         p->x + c * hp * B * DIN, DIN, sq_dy,
                                         &q, 0, dW, m, db, y, dout, &loss),
                         BPTT_OK);
        ck_assert(tu_relerr(hp * B, dout, y, dout, g.y + c * hp * B * dout,
                            dout) <= 1e-13);
        /* the reference: the window from y(s0) of the one forward */
        ck_assert_int_eq(bptt_forward(p->net, w, B, p->W, m, p->b,
                                      p->x + s0 * B * DIN, DIN,
                                      s0 ? g.y + (s0 - 1) * B * dout : NULL,
                                      dout, yw, dout, BPTT_ALGO_AUTO, ws),
                         BPTT_OK);
        memset(dy, 0, sizeof dy);
        double l = 0;
        ck_assert_int_eq(sq_dy(&q, e - hp, hp, B, yw + (w - hp) * B * dout,
                               dout, dy + (w - hp) * B * dout, dout, &l),
                         BPTT_OK);
        ck_assert_int_eq(bptt_backward(p->net, w, B, p->W, m, dy, dout, 0, ref,
                                       m, NULL, NULL, 0, NULL, 0,
                                       BPTT_ALGO_AUTO, ws), BPTT_OK);
        ck_assert(tu_relerr(dout, m, dW, m, ref, m) <= 1e-13);
        ck_assert(fabs(loss - l) <= 1e-13 * l);
    }
    /* traps */
    bptt_tbptt *keep = tb, *t2 = tb;
    TU_REFUSED(bptt_tbptt_alloc(p->net, 3, 4, B, &t2), BPTT_EINVAL, NULL);
    TU_REFUSED(bptt_tbptt_alloc(p->net, 3, 0, B, &t2), BPTT_ESIZE, NULL);
    TU_REFUSED(bptt_tbptt_alloc(NULL, 3, 1, B, &t2), BPTT_ENULL, NULL);
    ck_assert_ptr_eq(t2, keep);
    tu_snap sn = {0};
    tu_snap_add(&sn, dW, sizeof dW);
    TU_REFUSED(bptt_tbptt_step(tb, hp + 1, p->W, m, NULL, p->x, DIN, sq_dy,
                               &q, 0, dW, m, NULL, NULL, 0, NULL),
               BPTT_ECAPACITY, &sn);
    TU_REFUSED(bptt_tbptt_step(tb, 0, p->W, m, NULL, p->x, DIN, sq_dy, &q, 0,
                               dW, m, NULL, NULL, 0, NULL), BPTT_ESIZE, &sn);
    TU_REFUSED(bptt_tbptt_step(tb, 1, NULL, m, NULL, p->x, DIN, sq_dy, &q, 0,
                               dW, m, NULL, NULL, 0, NULL), BPTT_ENULL, &sn);
    TU_REFUSED(bptt_tbptt_step(tb, 1, p->W, m, NULL, p->x, DIN, NULL, &q, 0,
                               dW, m, NULL, NULL, 0, NULL), BPTT_ENULL, &sn);
    TU_REFUSED(bptt_tbptt_step(tb, 1, p->W, m, NULL, p->x, DIN, sq_dy, &q,
                               NAN, dW, m, NULL, NULL, 0, NULL), BPTT_EINVAL,
               &sn);
    TU_REFUSED(bptt_tbptt_reset(NULL, NULL, 0), BPTT_ENULL, NULL);
    tu_snap_free(&sn);
    bptt_tbptt_free(tb);
    bptt_tbptt_free(NULL);
    bptt_workspace_free(ws);
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* Single precision: Network B's schedule and truncated BPTT(T; T) against
 * bpttf_elman_forward/backward and bpttf_forward/backward. */
static bptt_status sqf_dy(void *ctx, size_t t0, size_t n, size_t B,
                          const float *y, size_t ldy, float *dy, size_t lddy,
                          double *loss)
{
    const float *tg = ctx;
    double l;
    bptt_status st = bpttf_loss_squared(n, B, DOUT, y, ldy, tg + t0 * B * DOUT,
                                        DOUT, NULL, &l, dy, lddy);
    *loss += l;
    return st;
}

START_TEST(single_precision_elman_tbptt)
{
    const size_t T = 9, B = 2, din = DIN, dh = DOUT, nout = 3, m = din + dh;
    bptt_net *net = tu_mixed_net(din, dh);
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(net, nout, BPTT_HEAD_SOFTMAX, &el),
                     BPTT_OK);
    tu_rng r = {5};
    double *Wd = tu_random(dh * m, 0.5, &r), *Wod = tu_random(nout * dh, 0.5, &r);
    double *xd = tu_random(T * B * din, 1, &r), *tgd = tu_random(T * B * dh, 1, &r);
    float *W = tu_to_float(Wd, dh * m), *Wo = tu_to_float(Wod, nout * dh);
    float *x = tu_to_float(xd, T * B * din), *tg = tu_to_float(tgd, T * B * dh);
    int labels[9 * 2];
    for (size_t k = 0; k < T * B; k++)
        labels[k] = (int)(k % nout);
    float dW[2][DOUT * (DIN + DOUT)], dWo[2][3 * DOUT];
    double E[2];
    bpttf_elman_workspace *ews;
    ck_assert_int_eq(bpttf_elman_workspace_alloc(el, T, B, &ews), BPTT_OK);
    ck_assert_int_eq(bpttf_elman_forward(el, T, B, W, m, NULL, Wo, dh, NULL, x,
                                         din, NULL, 0, labels, NULL, 0, &E[0],
                                         NULL, 0, NULL, 0, BPTT_ALGO_AUTO, ews),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_elman_backward(el, T, B, W, m, Wo, dh, labels, NULL,
                                          0, 0, dW[0], m, NULL, dWo[0], dh,
                                          NULL, NULL, 0, NULL, 0,
                                          BPTT_ALGO_AUTO, ews), BPTT_OK);
    bpttf_elman_workspace_free(ews);
    bpttf_schedule *s;
    ck_assert_int_eq(bpttf_schedule_elman_plan_fixed(el, T, B, 2, 1, &s),
                     BPTT_OK);
    ck_assert_int_eq(bpttf_schedule_elman_run(s, el, W, m, NULL, Wo, dh, NULL,
                                              x, din, NULL, 0, labels, NULL, 0,
                                              0, dW[1], m, NULL, dWo[1], dh,
                                              NULL, NULL, 0, NULL, 0, &E[1]),
                     BPTT_OK);
    bpttf_schedule_free(s);
    double a[DOUT * (DIN + DOUT)], c[DOUT * (DIN + DOUT)];
    tu_from_float(dW[0], dh * m, a);
    tu_from_float(dW[1], dh * m, c);
    ck_assert(tu_relerr(dh, m, c, m, a, m) <= 1e-5);
    tu_from_float(dWo[0], nout * dh, a);
    tu_from_float(dWo[1], nout * dh, c);
    ck_assert(tu_relerr(nout, dh, c, dh, a, dh) <= 1e-5);
    ck_assert(fabs(E[1] - E[0]) <= 1e-5 * E[0]);

    /* bpttf_tbptt with h = h' = T: bitwise bpttf_forward + backward */
    bpttf_workspace *ws;
    float y[9 * 2 * DOUT], dy[9 * 2 * DOUT];
    double l[2];
    ck_assert_int_eq(bpttf_workspace_alloc(net, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bpttf_forward(net, T, B, W, m, NULL, x, din, NULL, 0, y,
                                   dh, BPTT_ALGO_AUTO, ws), BPTT_OK);
    l[0] = 0;
    ck_assert_int_eq(sqf_dy(tg, 0, T, B, y, dh, dy, dh, &l[0]), BPTT_OK);
    ck_assert_int_eq(bpttf_backward(net, T, B, W, m, dy, dh, 0, dW[0], m, NULL,
                                    NULL, 0, NULL, 0, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    bpttf_workspace_free(ws);
    bpttf_tbptt *tb;
    ck_assert_int_eq(bpttf_tbptt_alloc(net, T, T, B, &tb), BPTT_OK);
    ck_assert_int_eq(bpttf_tbptt_step(tb, T, W, m, NULL, x, din, sqf_dy, tg, 0,
                                      dW[1], m, NULL, NULL, 0, &l[1]), BPTT_OK);
    bpttf_tbptt_free(tb);
    ck_assert(memcmp(dW[0], dW[1], sizeof dW[0]) == 0 && l[0] == l[1]);
    free(Wd); free(Wod); free(xd); free(tgd); free(W); free(Wo); free(x);
    free(tg);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

/* Network B: truncated BPTT(T; T) is bptt_elman_forward + backward,
 * bitwise; the state's and the descriptor's checks. */
START_TEST(tbptt_elman)
{
    const size_t T = 6, B = 2, din = DIN, dh = DOUT, nout = 3, m = din + dh;
    bptt_net *net = tu_mixed_net(din, dh);
    bptt_elman *el;
    ck_assert_int_eq(bptt_elman_create(net, nout, BPTT_HEAD_SOFTMAX, &el),
                     BPTT_OK);
    tu_rng r = {8};
    double *W = tu_random(dh * m, 0.5, &r), *bh = tu_random(dh, 0.2, &r);
    double *Wo = tu_random(nout * dh, 0.5, &r), *bo = tu_random(nout, 0.2, &r);
    double *x = tu_random(T * B * din, 1, &r);
    int labels[6 * 2];
    for (size_t k = 0; k < T * B; k++)
        labels[k] = k == 4 ? BPTT_IGNORE_LABEL : (int)(k * 5 % nout);
    double dW[2][DOUT * (DIN + DOUT)], dbh[2][DOUT], dWo[2][3 * DOUT],
        dbo[2][3], E[2], hh[2][6 * 2 * DOUT];
    bptt_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_workspace_alloc(el, T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_elman_forward(el, T, B, W, m, bh, Wo, dh, bo, x, din,
                                        NULL, 0, labels, NULL, 0, &E[0], hh[0],
                                        dh, NULL, 0, BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
    ck_assert_int_eq(bptt_elman_backward(el, T, B, W, m, Wo, dh, labels, NULL,
                                         0, 0, dW[0], m, dbh[0], dWo[0], dh,
                                         dbo[0], NULL, 0, NULL, 0,
                                         BPTT_ALGO_AUTO, ws), BPTT_OK);
    bptt_elman_workspace_free(ws);
    bptt_tbptt *tb;
    ck_assert_int_eq(bptt_tbptt_elman_alloc(el, T, T, B, &tb), BPTT_OK);
    ck_assert_int_eq(bptt_tbptt_elman_step(tb, el, T, W, m, bh, Wo, dh, bo, x,
                                           din, labels, NULL, 0, 0, dW[1], m,
                                           dbh[1], dWo[1], dh, dbo[1], hh[1],
                                           dh, &E[1]), BPTT_OK);
    ck_assert(E[0] == E[1]);
    ck_assert(memcmp(dW[0], dW[1], sizeof dW[0]) == 0);
    ck_assert(memcmp(dbh[0], dbh[1], sizeof dbh[0]) == 0);
    ck_assert(memcmp(dWo[0], dWo[1], sizeof dWo[0]) == 0);
    ck_assert(memcmp(dbo[0], dbo[1], sizeof dbo[0]) == 0);
    ck_assert(memcmp(hh[0], hh[1], sizeof hh[0]) == 0);
    /* traps: a Network A state, another descriptor, n past h' */
    bptt_tbptt *ta;
    ck_assert_int_eq(bptt_tbptt_alloc(net, T, T, B, &ta), BPTT_OK);
    tu_snap sn = {0};
    tu_snap_add(&sn, dW[1], sizeof dW[1]);
    tu_snap_add(&sn, dWo[1], sizeof dWo[1]);
    TU_REFUSED(bptt_tbptt_elman_step(ta, el, T, W, m, bh, Wo, dh, bo, x, din,
                                     labels, NULL, 0, 0, dW[1], m, NULL,
                                     dWo[1], dh, NULL, NULL, 0, NULL),
               BPTT_EMISMATCH, &sn);
    TU_REFUSED(bptt_tbptt_elman_step(tb, el, T + 1, W, m, bh, Wo, dh, bo, x,
                                     din, labels, NULL, 0, 0, dW[1], m, NULL,
                                     dWo[1], dh, NULL, NULL, 0, NULL),
               BPTT_ECAPACITY, &sn);
    TU_REFUSED(bptt_tbptt_elman_step(tb, el, T, W, m, bh, Wo, dh, bo, x, din,
                                     NULL, NULL, 0, 0, dW[1], m, NULL, dWo[1],
                                     dh, NULL, NULL, 0, NULL),
               BPTT_ENULL, &sn);
    TU_REFUSED(bptt_tbptt_elman_alloc(NULL, T, T, B, &ta), BPTT_ENULL, NULL);
    /* a gated core is refused, not run as tanh units */
    bptt_elman *gru = NULL;
    bptt_tbptt *tg = NULL;
    ck_assert_int_eq(bptt_elman_create_cell(BPTT_CELL_GRU, net, nout,
                                            BPTT_HEAD_SOFTMAX, &gru), BPTT_OK);
    TU_REFUSED(bptt_tbptt_elman_alloc(gru, T, T, B, &tg), BPTT_EINVAL, NULL);
    ck_assert_ptr_null(tg);
    bptt_elman_free(gru);
    tu_snap_free(&sn);
    bptt_tbptt_free(ta);
    bptt_tbptt_free(tb);
    free(W); free(bh); free(Wo); free(bo); free(x);
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("schedule");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, planner_brute_force);
    tcase_add_test(tc, planner_identities);
    tcase_add_loop_test(tc, every_schedule, 0, 3);
    tcase_add_loop_test(tc, every_budget, 0, 2);
    tcase_add_loop_test(tc, pieces, 0, 2);
    tcase_add_test(tc, single_precision);
    tcase_add_test(tc, callback_loss);
    tcase_add_test(tc, traps);
    tcase_add_test(tc, planner_targets);
    tcase_add_loop_test(tc, elman_schedule, 0, 2);
    tcase_add_test(tc, single_precision_elman_tbptt);
    tcase_add_test(tc, tbptt_identity);
    tcase_add_test(tc, tbptt_elman);
    tcase_add_test(tc, tbptt_stream);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
