/*
 * RTRL (forward mode, eqs. (9)-(11)): over whole sequences the summed
 * gradient (eq. 12) equals BPTT's; the naive loop form equals the GEMM
 * form step by step; each step's gradient equals BPTT's gradient of that
 * step's loss alone; online stepping with learning rate 0 equals the
 * offline sequence; the two-phase step serves any loss; float against
 * double; central differences; the size formula; and trap tests (each
 * validation branch gives its status and writes nothing).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const bptt_rtrl_algo algos[] = {BPTT_RTRL_NAIVE, BPTT_RTRL_GEMM,
                                       BPTT_RTRL_AUTO};

/* Odd shapes: mixed activations (tu_mixed_net), y0, bias and mask in most,
 * padded leading dimensions in some (pad = 0 takes eq. (11)'s single GEMV
 * over a contiguous dW), T up to 50; dout = 40 makes eq. (10) run in
 * several GEMM panels with a remainder. */
static const struct shape {
    size_t din, dout, T, B, pad;
    int flags;
} shapes[] = {
    {3, 5, 50, 1, 0, TU_BIAS | TU_Y0 | TU_MASK},
    {7, 2, 33, 3, 2, TU_BIAS | TU_Y0},
    {1, 9, 17, 2, 1, TU_Y0 | TU_MASK},
    {4, 13, 50, 2, 3, TU_BIAS | TU_Y0 | TU_MASK},
    {5, 1, 20, 4, 0, TU_BIAS},
    {1, 40, 8, 2, 0, TU_BIAS | TU_Y0},
};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

static tu_problem *problem(const struct shape *s, unsigned long long seed)
{
    return tu_problem_new(tu_mixed_net(s->din, s->dout), s->T, s->B, s->pad,
                          s->flags, seed);
}

/* ------------------------------------------------------------------------ */
/* Whole sequences: RTRL against BPTT (eq. (12))                             */
/* ------------------------------------------------------------------------ */

START_TEST(sequence_matches_bptt)
{
    const struct shape *s = &shapes[_i / 3];
    const bptt_rtrl_algo algo = algos[_i % 3];
    tu_problem *p = problem(s, 100 + (unsigned long long)_i);
    tu_grads ref = {0}, g = {0};
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_AUTO, &ref), BPTT_OK);
    /* a state with room for one more sequence than used */
    ck_assert_int_eq(tu_rtrl_gradients(p, algo, p->B + 1, &g), BPTT_OK);
    const char *name = bptt_rtrl_algo_name(algo);
    double e = fabs(g.loss - ref.loss) / ref.loss;
    ck_assert_msg(e <= TOL_REFERENCE, "%s loss: relerr %g", name, e);
    e = tu_relerr(p->T * p->B, p->dout, g.y, p->ldy, ref.y, p->ldy);
    ck_assert_msg(e <= TOL_REFERENCE, "%s y: relerr %g", name, e);
    e = tu_relerr(p->dout, p->m, g.dW, p->ldw, ref.dW, p->ldw);
    ck_assert_msg(e <= TOL_RTRL, "%s dW (%zu,%zu,%zu,%zu): relerr %g", name,
                  s->din, s->dout, s->T, s->B, e);
    e = tu_relerr(1, p->dout, g.db, p->dout, ref.db, p->dout);
    ck_assert_msg(e <= TOL_RTRL, "%s db: relerr %g", name, e);
    tu_grads_free(&ref);
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* The directional derivative of the loss along a random V over (W, b)
 * against <dW, V_W> + <db, V_b> (KANN's check: two extra forwards). */
START_TEST(directional_gradcheck)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(6, 11), 25, 2, 1,
                                   TU_BIAS | TU_Y0 | TU_MASK, 31);
    tu_grads g = {0};
    ck_assert_int_eq(tu_rtrl_gradients(p, BPTT_RTRL_GEMM, p->B, &g), BPTT_OK);
    tu_rng r = {77};
    const size_t nw = p->dout * p->ldw;
    double *vw = tu_random(nw, 1.0, &r), *vb = tu_random(p->dout, 1.0, &r);
    const tu_fd_dir dir[] = {{p->W, g.dW, vw, p->dout, p->m, p->ldw},
                             {p->b, g.db, vb, 1, p->dout, p->dout}};
    double fd, dot;
    const double e = tu_fd_direction(tu_loss_fn_problem, p, dir, 2, &fd, &dot);
    ck_assert_msg(e <= TOL_GRADCHECK, "<g, V> = %.12g, fd = %.12g: relerr %g",
                  dot, fd, e);
    free(vw);
    free(vb);
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Step by step                                                              */
/* ------------------------------------------------------------------------ */

/* One stream of steps with targets, beta = 0: each step's own gradient. */
typedef struct stepper {
    const tu_problem *p;
    bptt_rtrl *st;
    bptt_rtrl_algo algo;
    double *y, *dW, *db, loss;
} stepper;

static void stepper_open(stepper *s, const tu_problem *p, bptt_rtrl_algo algo)
{
    s->p = p;
    s->algo = algo;
    ck_assert_int_eq(bptt_rtrl_alloc(p->net, p->B, &s->st), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_reset(p->net, p->B, p->y0, p->ldy0, s->st),
                     BPTT_OK);
    s->y = calloc(p->B * p->ldy, sizeof(double));
    s->dW = calloc(p->dout * p->ldw, sizeof(double));
    s->db = calloc(p->dout, sizeof(double));
}

static void stepper_step(stepper *s, size_t t)
{
    const tu_problem *p = s->p;
    const size_t k = t * p->B;
    ck_assert_int_eq(bptt_rtrl_step(p->net, p->B, p->W, p->ldw, p->b,
                                    p->x + k * p->ldx, p->ldx,
                                    p->target + k * p->ldy, p->ldy,
                                    p->mask ? p->mask + k : NULL, s->y, p->ldy,
                                    &s->loss, 0.0, s->dW, p->ldw, s->db,
                                    s->algo, s->st),
                     BPTT_OK);
}

static void stepper_close(stepper *s)
{
    bptt_rtrl_free(s->st);
    free(s->y);
    free(s->dW);
    free(s->db);
}

START_TEST(naive_matches_gemm_per_step)
{
    const struct shape *s = &shapes[_i];
    tu_problem *p = problem(s, 200 + (unsigned long long)_i);
    stepper a, b;
    stepper_open(&a, p, BPTT_RTRL_NAIVE);
    stepper_open(&b, p, BPTT_RTRL_GEMM);
    for (size_t t = 0; t < p->T; t++) {
        stepper_step(&a, t);
        stepper_step(&b, t);
        double e = tu_relerr(p->B, p->dout, b.y, p->ldy, a.y, p->ldy);
        ck_assert_msg(e <= TOL_REFERENCE, "t = %zu y: relerr %g", t, e);
        ck_assert(fabs(a.loss - b.loss) <= TOL_REFERENCE * fabs(a.loss));
        e = tu_relerr(p->dout, p->m, b.dW, p->ldw, a.dW, p->ldw);
        ck_assert_msg(e <= TOL_REFERENCE, "t = %zu dW: relerr %g", t, e);
        e = tu_relerr(1, p->dout, b.db, p->dout, a.db, p->dout);
        ck_assert_msg(e <= TOL_REFERENCE, "t = %zu db: relerr %g", t, e);
    }
    stepper_close(&a);
    stepper_close(&b);
    tu_problem_free(p);
}
END_TEST

/* BPTT's gradient of L(t+1) alone: the squared error's dy kept on the rows
 * of step t only. */
static void bptt_single_step(const tu_problem *p, bptt_workspace *ws,
                             const double *dy_all, double *dy, size_t t,
                             double *dW, double *db)
{
    const size_t TB = p->T * p->B, ld = p->ldy;
    memset(dy, 0, TB * ld * sizeof *dy);
    memcpy(dy + t * p->B * ld, dy_all + t * p->B * ld,
           p->B * ld * sizeof *dy);
    ck_assert_int_eq(bptt_backward(p->net, p->T, p->B, p->W, p->ldw, dy, ld,
                                   0.0, dW, p->ldw, db, NULL, 0, NULL, 0,
                                   BPTT_ALGO_AUTO, ws),
                     BPTT_OK);
}

START_TEST(per_step_matches_bptt_single_loss)
{
    const struct shape *s = &shapes[_i / 2];
    tu_problem *p = problem(s, 300 + (unsigned long long)_i);
    const size_t TB = p->T * p->B;
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, p->T, p->B, &ws), BPTT_OK);
    double *y = calloc(TB * p->ldy, sizeof *y), *dy_all = calloc(TB * p->ldy, sizeof *y);
    double *dy = calloc(TB * p->ldy, sizeof *y), loss;
    double *dW = calloc(p->dout * p->ldw, sizeof *y), *db = calloc(p->dout, sizeof *y);
    ck_assert_int_eq(bptt_forward(p->net, p->T, p->B, p->W, p->ldw, p->b, p->x,
                                  p->ldx, p->y0, p->ldy0, y, p->ldy,
                                  BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_int_eq(bptt_loss_squared(p->T, p->B, p->dout, y, p->ldy,
                                       p->target, p->ldy, p->mask, &loss,
                                       dy_all, p->ldy), BPTT_OK);
    stepper r;
    stepper_open(&r, p, algos[_i % 2]);
    for (size_t t = 0; t < p->T; t++) {
        stepper_step(&r, t);
        bptt_single_step(p, ws, dy_all, dy, t, dW, db);
        double e = tu_relerr(p->dout, p->m, r.dW, p->ldw, dW, p->ldw);
        ck_assert_msg(e <= TOL_RTRL, "t = %zu dW: relerr %g", t, e);
        e = tu_relerr(1, p->dout, r.db, p->dout, db, p->dout);
        ck_assert_msg(e <= TOL_RTRL, "t = %zu db: relerr %g", t, e);
    }
    stepper_close(&r);
    bptt_workspace_free(ws);
    free(y);
    free(dy_all);
    free(dy);
    free(dW);
    free(db);
    tu_problem_free(p);
}
END_TEST

/* Williams and Zipser's online mode with learning rate 0: per-step
 * gradients (beta = 0), an SGD step on W and b after each, summed by the
 * caller, equal the offline sequence (W never changed). */
START_TEST(online_rate_zero_equals_offline)
{
    tu_problem *p = problem(&shapes[3], 400);
    tu_grads off = {0};
    ck_assert_int_eq(tu_rtrl_gradients(p, BPTT_RTRL_GEMM, p->B, &off), BPTT_OK);
    double *sumW = calloc(p->dout * p->ldw, sizeof(double));
    double *sumb = calloc(p->dout, sizeof(double)), loss = 0;
    stepper r;
    stepper_open(&r, p, BPTT_RTRL_GEMM);
    for (size_t t = 0; t < p->T; t++) {
        stepper_step(&r, t);
        loss += r.loss;
        for (size_t i = 0; i < p->dout; i++) {
            for (size_t j = 0; j < p->m; j++)
                sumW[i * p->ldw + j] += r.dW[i * p->ldw + j];
            sumb[i] += r.db[i];
        }
        ck_assert_int_eq(bptt_sgd_step(p->dout, p->m, 0.0, r.dW, p->ldw, p->W,
                                       p->ldw), BPTT_OK);
        ck_assert_int_eq(bptt_sgd_step(1, p->dout, 0.0, r.db, p->dout, p->b,
                                       p->dout), BPTT_OK);
    }
    double e = tu_relerr(p->dout, p->m, sumW, p->ldw, off.dW, p->ldw);
    ck_assert_msg(e <= TOL_REFERENCE, "dW: relerr %g", e);
    e = tu_relerr(1, p->dout, sumb, p->dout, off.db, p->dout);
    ck_assert_msg(e <= TOL_REFERENCE, "db: relerr %g", e);
    ck_assert(fabs(loss - off.loss) <= TOL_REFERENCE * off.loss);
    stepper_close(&r);
    free(sumW);
    free(sumb);
    tu_grads_free(&off);
    tu_problem_free(p);
}
END_TEST

/* Online learning with a rate > 0 (Williams and Zipser): a student that
 * takes an SGD step after every RTRL step learns a teacher of the same
 * shape from one stream — the approximate gradient still descends. */
START_TEST(online_learning_lowers_the_loss)
{
    enum { STEPS = 4000, WIN = 500 };
    /* bounded units, so that the teacher's stream stays bounded */
    const bptt_activation act[5] = {BPTT_ACT_TANH, BPTT_ACT_LOGISTIC,
                                    BPTT_ACT_TANH, BPTT_ACT_LOGISTIC,
                                    BPTT_ACT_TANH};
    bptt_net *n;
    ck_assert_int_eq(bptt_net_create(2, 5, act, NULL, &n), BPTT_OK);
    const size_t din = 2, dout = 5, m = 7;
    tu_rng r = {21};
    double *Wt = tu_random(dout * m, 0.9, &r), *W = tu_random(dout * m, 0.1, &r);
    double b[5] = {0}, dW[35], db[5], x[2], yt[2][5] = {{0}}, loss;
    double first = 0, last = 0;
    bptt_workspace *teacher;
    bptt_rtrl *st;
    ck_assert_int_eq(bptt_workspace_alloc(n, 1, 1, &teacher), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_alloc(n, 1, &st), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_reset(n, 1, NULL, 0, st), BPTT_OK);
    for (size_t t = 0; t < STEPS; t++) {
        x[0] = tu_uniform(&r);
        x[1] = tu_uniform(&r);
        ck_assert_int_eq(bptt_forward(n, 1, 1, Wt, m, NULL, x, din, yt[t % 2],
                                      dout, yt[(t + 1) % 2], dout,
                                      BPTT_ALGO_AUTO, teacher), BPTT_OK);
        ck_assert_int_eq(bptt_rtrl_step(n, 1, W, m, b, x, din, yt[(t + 1) % 2],
                                        dout, NULL, NULL, 0, &loss, 0.0, dW, m,
                                        db, BPTT_RTRL_GEMM, st), BPTT_OK);
        ck_assert_int_eq(bptt_sgd_step(dout, m, 0.02, dW, m, W, m), BPTT_OK);
        ck_assert_int_eq(bptt_sgd_step(1, dout, 0.02, db, dout, b, dout), BPTT_OK);
        if (t < WIN)
            first += loss;
        if (t >= STEPS - WIN)
            last += loss;
    }
    ck_assert_msg(last < 0.2 * first, "mean loss %g, then %g", first / WIN,
                  last / WIN);
    bptt_rtrl_free(st);
    bptt_workspace_free(teacher);
    bptt_net_free(n);
    free(Wt);
    free(W);
}
END_TEST

/* advance + accumulate with an arbitrary dy(t+1) (not a squared error)
 * equals bptt_backward with the same dy; accumulate reads the state only,
 * so calling it twice with beta = 0 gives the same bits. */
START_TEST(two_phase_any_loss)
{
    const struct shape *s = &shapes[_i / 2];
    tu_problem *p = problem(s, 500 + (unsigned long long)_i);
    const size_t TB = p->T * p->B, B = p->B;
    tu_rng rng = {9};
    double *dy = tu_random(TB * p->ldy, 1.0, &rng);
    double *y = calloc(TB * p->ldy, sizeof *y), *yr = calloc(B * p->ldy, sizeof *y);
    double *dW = calloc(p->dout * p->ldw, sizeof *y), *db = calloc(p->dout, sizeof *y);
    double *ref = calloc(p->dout * p->ldw, sizeof *y), *refb = calloc(p->dout, sizeof *y);
    double *once = calloc(p->dout * p->ldw, sizeof *y), *twice = calloc(p->dout * p->ldw, sizeof *y);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, p->T, B, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_forward(p->net, p->T, B, p->W, p->ldw, p->b, p->x,
                                  p->ldx, p->y0, p->ldy0, y, p->ldy,
                                  BPTT_ALGO_AUTO, ws), BPTT_OK);
    ck_assert_int_eq(bptt_backward(p->net, p->T, B, p->W, p->ldw, dy, p->ldy,
                                   0.0, ref, p->ldw, refb, NULL, 0, NULL, 0,
                                   BPTT_ALGO_AUTO, ws), BPTT_OK);
    const bptt_rtrl_algo algo = algos[_i % 2];
    bptt_rtrl *st;
    ck_assert_int_eq(bptt_rtrl_alloc(p->net, B, &st), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_reset(p->net, B, p->y0, p->ldy0, st), BPTT_OK);
    for (size_t t = 0; t < p->T; t++) {
        const size_t k = t * B;
        ck_assert_int_eq(bptt_rtrl_advance(p->net, B, p->W, p->ldw, p->b,
                                           p->x + k * p->ldx, p->ldx, yr,
                                           p->ldy, algo, st), BPTT_OK);
        double e = tu_relerr(B, p->dout, yr, p->ldy, y + k * p->ldy, p->ldy);
        ck_assert_msg(e <= TOL_REFERENCE, "t = %zu y: relerr %g", t, e);
        ck_assert_int_eq(bptt_rtrl_accumulate(p->net, B, dy + k * p->ldy,
                                              p->ldy, 1.0, dW, p->ldw, db,
                                              algo, st), BPTT_OK);
        ck_assert_int_eq(bptt_rtrl_accumulate(p->net, B, dy + k * p->ldy,
                                              p->ldy, 0.0, once, p->ldw, NULL,
                                              algo, st), BPTT_OK);
        ck_assert_int_eq(bptt_rtrl_accumulate(p->net, B, dy + k * p->ldy,
                                              p->ldy, 0.0, twice, p->ldw, NULL,
                                              algo, st), BPTT_OK);
        ck_assert(memcmp(once, twice, p->dout * p->ldw * sizeof *y) == 0);
    }
    double e = tu_relerr(p->dout, p->m, dW, p->ldw, ref, p->ldw);
    ck_assert_msg(e <= TOL_RTRL, "%s dW: relerr %g", bptt_rtrl_algo_name(algo), e);
    e = tu_relerr(1, p->dout, db, p->dout, refb, p->dout);
    ck_assert_msg(e <= TOL_RTRL, "db: relerr %g", e);
    bptt_rtrl_free(st);
    bptt_workspace_free(ws);
    free(dy);
    free(y);
    free(yr);
    free(dW);
    free(db);
    free(ref);
    free(refb);
    free(once);
    free(twice);
    tu_problem_free(p);
}
END_TEST

/* beta = 0 overwrites without reading (NaN included); beta = 2 scales the
 * old contents before adding, as bptt_backward does. */
START_TEST(beta_like_backward)
{
    tu_problem *p = problem(&shapes[1], 600);
    const size_t nw = p->dout * p->ldw;
    tu_grads g = {0};
    ck_assert_int_eq(tu_rtrl_gradients(p, algos[_i], p->B, &g), BPTT_OK);
    bptt_rtrl *st;
    ck_assert_int_eq(bptt_rtrl_alloc(p->net, p->B, &st), BPTT_OK);
    double *dW = malloc(nw * sizeof *dW), db[2];
    ck_assert_uint_eq(p->dout, 2);
    for (size_t i = 0; i < nw; i++)
        dW[i] = NAN;
    db[0] = db[1] = NAN;
    ck_assert_int_eq(bptt_rtrl_sequence(p->net, p->T, p->B, p->W, p->ldw, p->b,
                                        p->x, p->ldx, p->y0, p->ldy0,
                                        p->target, p->ldy, p->mask, NULL, 0,
                                        NULL, 0.0, dW, p->ldw, db, algos[_i],
                                        st), BPTT_OK);
    ck_assert(tu_relerr(p->dout, p->m, dW, p->ldw, g.dW, p->ldw) <= TOL_REFERENCE);
    ck_assert(tu_relerr(1, 2, db, 2, g.db, 2) <= TOL_REFERENCE);
    /* beta = 2 on the result: 2·g + g = 3·g */
    ck_assert_int_eq(bptt_rtrl_sequence(p->net, p->T, p->B, p->W, p->ldw, p->b,
                                        p->x, p->ldx, p->y0, p->ldy0,
                                        p->target, p->ldy, p->mask, NULL, 0,
                                        NULL, 2.0, dW, p->ldw, db, algos[_i],
                                        st), BPTT_OK);
    for (size_t i = 0; i < p->dout; i++) {
        for (size_t j = 0; j < p->m; j++)
            g.dW[i * p->ldw + j] *= 3;
        g.db[i] *= 3;
    }
    ck_assert(tu_relerr(p->dout, p->m, dW, p->ldw, g.dW, p->ldw) <= TOL_REFERENCE);
    ck_assert(tu_relerr(1, 2, db, 2, g.db, 2) <= TOL_REFERENCE);
    bptt_rtrl_free(st);
    free(dW);
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Precision, size, placement                                                */
/* ------------------------------------------------------------------------ */

static float *to_float(const double *a, size_t n)
{
    float *f = malloc((n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)a[i];
    return f;
}

static double *to_double(const float *a, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = a[i];
    return d;
}

START_TEST(float_matches_double)
{
    tu_problem *p = problem(&shapes[_i], 700 + (unsigned long long)_i);
    const size_t TB = p->T * p->B, nw = p->dout * p->ldw;
    tu_grads ref = {0};
    ck_assert_int_eq(tu_rtrl_gradients(p, BPTT_RTRL_NAIVE, p->B, &ref), BPTT_OK);
    float *W = to_float(p->W, nw), *x = to_float(p->x, TB * p->ldx);
    float *t = to_float(p->target, TB * p->ldy);
    float *b = p->b ? to_float(p->b, p->dout) : NULL;
    float *y0 = p->y0 ? to_float(p->y0, p->B * p->ldy0) : NULL;
    float *y = calloc(TB * p->ldy, sizeof *y), *dW = calloc(nw, sizeof *y);
    float *db = calloc(p->dout, sizeof *y);
    for (size_t a = 0; a < 2; a++) {
        bpttf_rtrl *st;
        double loss;
        ck_assert_int_eq(bpttf_rtrl_alloc(p->net, p->B, &st), BPTT_OK);
        ck_assert_int_eq(bpttf_rtrl_sequence(p->net, p->T, p->B, W, p->ldw, b,
                                             x, p->ldx, y0, p->ldy0, t, p->ldy,
                                             p->mask, y, p->ldy, &loss, 0.0f,
                                             dW, p->ldw, db, algos[a], st),
                         BPTT_OK);
        bpttf_rtrl_free(st);
        double *dy = to_double(y, TB * p->ldy), *dd = to_double(dW, nw);
        double *ddb = to_double(db, p->dout);
        double e = tu_relerr(TB, p->dout, dy, p->ldy, ref.y, p->ldy);
        ck_assert_msg(e <= TOL_FLOAT, "y: relerr %g", e);
        e = tu_relerr(p->dout, p->m, dd, p->ldw, ref.dW, p->ldw);
        ck_assert_msg(e <= TOL_FLOAT, "%s dW: relerr %g",
                      bptt_rtrl_algo_name(algos[a]), e);
        e = tu_relerr(1, p->dout, ddb, p->dout, ref.db, p->dout);
        ck_assert_msg(e <= TOL_FLOAT, "db: relerr %g", e);
        ck_assert(fabs(loss - ref.loss) <= TOL_FLOAT * ref.loss);
        free(dy);
        free(dd);
        free(ddb);
    }
    free(W);
    free(x);
    free(t);
    free(b);
    free(y0);
    free(y);
    free(dW);
    free(db);
    tu_grads_free(&ref);
    tu_problem_free(p);
}
END_TEST

static size_t up64(size_t n)
{
    return (n + 63) / 64 * 64;
}

/* The formula of the header, computed here independently. */
static size_t formula(size_t din, size_t n, size_t Bmax, size_t r)
{
    const size_t m = din + n, cols = n * (m + 1), p = 64 / r;
    size_t c = 64 * (n < 1024 ? 1024 / n : 1);
    if (c > cols)
        c = cols;
    return 256 + up64(r * Bmax * n * (cols + p)) + up64(r * Bmax * m) +
           4 * up64(r * Bmax * n) + up64(r * n * n) + up64(r * n * (c + p)) +
           up64(r * c);
}

START_TEST(size_formula)
{
    static const size_t cases[][3] = {
        {3, 5, 1}, {1, 40, 2}, {64, 64, 1}, {7, 600, 3}, {128, 128, 4},
        {2, 1100, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bptt_net *net;
        ck_assert_int_eq(bptt_net_create_uniform(cases[i][0], cases[i][1],
                                                 BPTT_ACT_TANH, NULL, &net),
                         BPTT_OK);
        size_t bytes = 0;
        ck_assert_int_eq(bptt_rtrl_size(net, cases[i][2], &bytes), BPTT_OK);
        ck_assert_uint_eq(bytes, formula(cases[i][0], cases[i][1], cases[i][2],
                                         sizeof(double)));
        ck_assert_int_eq(bpttf_rtrl_size(net, cases[i][2], &bytes), BPTT_OK);
        ck_assert_uint_eq(bytes, formula(cases[i][0], cases[i][1], cases[i][2],
                                         sizeof(float)));
        bptt_net_free(net);
    }
}
END_TEST

/* A state placed in the caller's buffer, at an odd address, gives the same
 * bits as an allocated one, across a reset to a smaller B. */
START_TEST(init_in_caller_buffer)
{
    tu_problem *p = problem(&shapes[2], 800);
    size_t bytes;
    ck_assert_int_eq(bptt_rtrl_size(p->net, 3, &bytes), BPTT_OK);
    unsigned char *buf = malloc(bytes + 1);
    bptt_rtrl *st;
    ck_assert_int_eq(bptt_rtrl_init(p->net, 3, buf + 1, bytes, &st), BPTT_OK);
    tu_grads g = {0};
    ck_assert_int_eq(tu_rtrl_gradients(p, BPTT_RTRL_GEMM, 2, &g), BPTT_OK);
    const size_t nw = p->dout * p->ldw;
    double *dW = calloc(nw, sizeof *dW), db[9], loss;
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(bptt_rtrl_sequence(p->net, p->T, p->B, p->W, p->ldw,
                                            p->b, p->x, p->ldx, p->y0, p->ldy0,
                                            p->target, p->ldy, p->mask, NULL,
                                            0, &loss, 0.0, dW, p->ldw, db,
                                            BPTT_RTRL_GEMM, st), BPTT_OK);
        ck_assert(memcmp(dW, g.dW, nw * sizeof *dW) == 0);
        ck_assert(memcmp(db, g.db, sizeof db) == 0);
        ck_assert(loss == g.loss);
        /* between the rounds, a stream of another B */
        ck_assert_int_eq(bptt_rtrl_reset(p->net, 3, NULL, 0, st), BPTT_OK);
    }
    bptt_rtrl_free(st); /* frees nothing: the buffer is the caller's */
    free(buf);
    free(dW);
    tu_grads_free(&g);
    tu_problem_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Traps                                                                     */
/* ------------------------------------------------------------------------ */

enum { DIN = 3, DOUT = 4, M = DIN + DOUT, T = 5, B = 2, TB = T * B };

/* Every array a call may touch, in one block, so one snapshot proves that
 * nothing was written — the state's buffer included. */
typedef struct arena {
    double W[DOUT * M], b[DOUT], x[TB * DIN], y0[B * DOUT], y[TB * DOUT];
    double target[TB * DOUT], dy[B * DOUT], dW[DOUT * M], db[DOUT];
    double loss;
    unsigned char mask[TB];
    unsigned char stbuf[16384];
} arena;

static bptt_net *net, *other;
static arena *a;
static tu_snap snap; /* of the whole arena, taken before each trap */
static bptt_rtrl *st, *fresh;

static void setup(void)
{
    tu_rng r = {1};
    net = tu_mixed_net(DIN, DOUT);
    other = tu_mixed_net(DIN, DOUT);
    /* calloc: the struct's tail padding is compared too */
    a = calloc(1, sizeof *a);
    double *d = (double *)a;
    for (size_t i = 0; i < offsetof(arena, mask) / sizeof(double); i++)
        d[i] = tu_uniform(&r);
    memset(a->mask, 1, sizeof a->mask);
    memset(a->stbuf, 0xA5, sizeof a->stbuf);
    size_t bytes;
    ck_assert_int_eq(bptt_rtrl_size(net, B, &bytes), BPTT_OK);
    ck_assert_uint_le(bytes, sizeof a->stbuf / 2);
    ck_assert_int_eq(bptt_rtrl_init(net, B, a->stbuf, sizeof a->stbuf / 2, &st),
                     BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_init(net, B, a->stbuf + sizeof a->stbuf / 2,
                                    sizeof a->stbuf / 2, &fresh), BPTT_OK);
}

static void teardown(void)
{
    bptt_net_free(net);
    bptt_net_free(other);
    free(a);
    tu_snap_free(&snap);
}

static void check_trap(bptt_status got, bptt_status want, const char *what)
{
    tu_assert_refused(got, want, &snap, what);
}

/* One call with one fault: its status, a detail, nothing written. */
#define TRAP(want, call)                                                       \
    do {                                                                       \
        tu_snap_free(&snap);                                                   \
        tu_snap_add(&snap, a, sizeof *a);                                      \
        check_trap((call), (want), #call);                                     \
    } while (0)

static const size_t HUGE_LD = (size_t)INT32_MAX + 1, WILD_LD = SIZE_MAX / 2;

START_TEST(state_traps)
{
    size_t bytes = 12345;
    bptt_rtrl *out = (bptt_rtrl *)&bytes;
    ck_assert_int_eq(bptt_rtrl_size(NULL, B, &bytes), BPTT_ENULL);
    ck_assert_int_eq(bptt_rtrl_size(net, B, NULL), BPTT_ENULL);
    ck_assert_int_eq(bptt_rtrl_size(net, 0, &bytes), BPTT_ESIZE);
    ck_assert_int_eq(bptt_rtrl_size(net, SIZE_MAX / 4, &bytes), BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_rtrl_size(net, (size_t)INT32_MAX / DOUT + 1, &bytes),
                     BPTT_EOVERFLOW); /* Bmax·dout > INT_MAX */
    bptt_net *wide; /* dout·(m+1) > INT_MAX */
    ck_assert_int_eq(bptt_net_create_uniform((size_t)1 << 16, (size_t)1 << 15,
                                             BPTT_ACT_TANH, NULL, &wide), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_size(wide, 1, &bytes), BPTT_EOVERFLOW);
    ck_assert_int_eq(bpttf_rtrl_size(wide, 1, &bytes), BPTT_EOVERFLOW);
    bptt_net_free(wide);
    ck_assert_uint_eq(bytes, 12345);
    ck_assert_int_eq(bptt_rtrl_alloc(net, B, NULL), BPTT_ENULL);
    ck_assert_int_eq(bptt_rtrl_alloc(NULL, B, &out), BPTT_ENULL);
    ck_assert_int_eq(bptt_rtrl_alloc(net, 0, &out), BPTT_ESIZE);
    ck_assert_int_eq(bptt_rtrl_init(net, B, NULL, 100, &out), BPTT_ENULL);
    ck_assert_int_eq(bptt_rtrl_init(net, B, a->stbuf, 100, NULL), BPTT_ENULL);
    ck_assert_int_eq(bptt_rtrl_size(net, B, &bytes), BPTT_OK);
    TRAP(BPTT_EBUFFER, bptt_rtrl_init(net, B, a->stbuf, bytes - 1, &out));
    ck_assert_ptr_eq(out, (bptt_rtrl *)&bytes);
    /* About 16 TiB of P is refused by the allocator, not by a crash. */
    bptt_net *big;
    ck_assert_int_eq(bptt_net_create_uniform(4096, 4096, BPTT_ACT_TANH, NULL,
                                             &big), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_alloc(big, 16, &out), BPTT_ENOMEM);
    ck_assert_ptr_eq(out, (bptt_rtrl *)&bytes);
    bptt_net_free(big);
    bptt_rtrl_free(NULL);
    ck_assert_str_eq(bptt_rtrl_algo_name(BPTT_RTRL_GEMM), "gemm");
    ck_assert_ptr_null(bptt_rtrl_algo_name(BPTT_RTRL_NALGO));
    ck_assert_ptr_null(bptt_rtrl_algo_name((bptt_rtrl_algo)-1));
}
END_TEST

START_TEST(reset_traps)
{
    TRAP(BPTT_ENULL, bptt_rtrl_reset(NULL, B, a->y0, DOUT, st));
    TRAP(BPTT_ENULL, bptt_rtrl_reset(net, B, a->y0, DOUT, NULL));
    TRAP(BPTT_EMISMATCH, bptt_rtrl_reset(other, B, a->y0, DOUT, st));
    TRAP(BPTT_ESIZE, bptt_rtrl_reset(net, 0, a->y0, DOUT, st));
    TRAP(BPTT_ECAPACITY, bptt_rtrl_reset(net, B + 1, a->y0, DOUT, st));
    TRAP(BPTT_ELD, bptt_rtrl_reset(net, B, a->y0, DOUT - 1, st));
    TRAP(BPTT_EOVERFLOW, bptt_rtrl_reset(net, B, a->y0, WILD_LD, st));
    ck_assert_int_eq(bptt_rtrl_reset(net, B, a->y0, DOUT, st), BPTT_OK);
    ck_assert_int_eq(bptt_rtrl_reset(net, B, NULL, 0, st), BPTT_OK);
}
END_TEST

START_TEST(advance_and_accumulate_traps)
{
    const bptt_rtrl_algo G = BPTT_RTRL_GEMM;
    /* Before any reset / advance: refused. */
    TRAP(BPTT_EINVAL, bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, a->y,
                                        DOUT, G, fresh));
    TRAP(BPTT_ENOFORWARD, bptt_rtrl_accumulate(net, B, a->dy, DOUT, 0.0, a->dW,
                                               M, a->db, G, fresh));
    ck_assert_int_eq(bptt_rtrl_reset(net, B, a->y0, DOUT, fresh), BPTT_OK);
    TRAP(BPTT_ENOFORWARD, bptt_rtrl_accumulate(net, B, a->dy, DOUT, 0.0, a->dW,
                                               M, a->db, G, fresh));

    ck_assert_int_eq(bptt_rtrl_reset(net, B, a->y0, DOUT, st), BPTT_OK);
    TRAP(BPTT_ENULL, bptt_rtrl_advance(NULL, B, a->W, M, a->b, a->x, DIN, a->y, DOUT, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_advance(net, B, NULL, M, a->b, a->x, DIN, a->y, DOUT, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_advance(net, B, a->W, M, a->b, NULL, DIN, a->y, DOUT, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, NULL, DOUT, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, a->y, DOUT, G, NULL));
    TRAP(BPTT_EMISMATCH, bptt_rtrl_advance(other, B, a->W, M, a->b, a->x, DIN, a->y, DOUT, G, st));
    TRAP(BPTT_ESIZE, bptt_rtrl_advance(net, 0, a->W, M, a->b, a->x, DIN, a->y, DOUT, G, st));
    TRAP(BPTT_ECAPACITY, bptt_rtrl_advance(net, B + 1, a->W, M, a->b, a->x, DIN, a->y, DOUT, G, st));
    TRAP(BPTT_EINVAL, bptt_rtrl_advance(net, 1, a->W, M, a->b, a->x, DIN, a->y, DOUT, G, st));
    TRAP(BPTT_EALGO, bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, a->y, DOUT, BPTT_RTRL_NALGO, st));
    TRAP(BPTT_EALGO, bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, a->y, DOUT, (bptt_rtrl_algo)-1, st));
    TRAP(BPTT_ELD, bptt_rtrl_advance(net, B, a->W, M - 1, a->b, a->x, DIN, a->y, DOUT, G, st));
    TRAP(BPTT_ELD, bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN - 1, a->y, DOUT, G, st));
    TRAP(BPTT_ELD, bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, a->y, 0, G, st));
    TRAP(BPTT_EOVERFLOW, bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, HUGE_LD, a->y, DOUT, G, st));
    TRAP(BPTT_EOVERFLOW, bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, a->y, WILD_LD, G, st));
    /* accumulate before this state's first advance */
    TRAP(BPTT_ENOFORWARD, bptt_rtrl_accumulate(net, B, a->dy, DOUT, 0.0, a->dW, M, a->db, G, st));
    ck_assert_int_eq(bptt_rtrl_advance(net, B, a->W, M, a->b, a->x, DIN, a->y,
                                       DOUT, G, st), BPTT_OK);

    TRAP(BPTT_ENULL, bptt_rtrl_accumulate(NULL, B, a->dy, DOUT, 0.0, a->dW, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_accumulate(net, B, NULL, DOUT, 0.0, a->dW, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_accumulate(net, B, a->dy, DOUT, 0.0, NULL, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_accumulate(net, B, a->dy, DOUT, 0.0, a->dW, M, a->db, G, NULL));
    TRAP(BPTT_EMISMATCH, bptt_rtrl_accumulate(other, B, a->dy, DOUT, 0.0, a->dW, M, a->db, G, st));
    TRAP(BPTT_ESIZE, bptt_rtrl_accumulate(net, 0, a->dy, DOUT, 0.0, a->dW, M, a->db, G, st));
    TRAP(BPTT_ECAPACITY, bptt_rtrl_accumulate(net, B + 1, a->dy, DOUT, 0.0, a->dW, M, a->db, G, st));
    TRAP(BPTT_ENOFORWARD, bptt_rtrl_accumulate(net, 1, a->dy, DOUT, 0.0, a->dW, M, a->db, G, st));
    TRAP(BPTT_EALGO, bptt_rtrl_accumulate(net, B, a->dy, DOUT, 0.0, a->dW, M, a->db, BPTT_RTRL_NALGO, st));
    TRAP(BPTT_ELD, bptt_rtrl_accumulate(net, B, a->dy, DOUT - 1, 0.0, a->dW, M, a->db, G, st));
    TRAP(BPTT_ELD, bptt_rtrl_accumulate(net, B, a->dy, DOUT, 0.0, a->dW, M - 1, a->db, G, st));
    TRAP(BPTT_EOVERFLOW, bptt_rtrl_accumulate(net, B, a->dy, WILD_LD, 0.0, a->dW, M, a->db, G, st));
    TRAP(BPTT_EOVERFLOW, bptt_rtrl_accumulate(net, B, a->dy, DOUT, 0.0, a->dW, HUGE_LD, a->db, G, st));
    TRAP(BPTT_EINVAL, bptt_rtrl_accumulate(net, B, a->dy, DOUT, -INFINITY, a->dW, M, a->db, G, st));
    ck_assert_int_eq(bptt_rtrl_accumulate(net, B, a->dy, DOUT, 0.0, a->dW, M,
                                          a->db, G, st), BPTT_OK);
}
END_TEST

START_TEST(step_and_sequence_traps)
{
    const bptt_rtrl_algo G = BPTT_RTRL_AUTO;
    double *W = a->W, *x = a->x, *t = a->target, *y = a->y, *dW = a->dW;
    unsigned char *mk = a->mask;
    TRAP(BPTT_EINVAL, bptt_rtrl_step(net, B, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, fresh));
    ck_assert_int_eq(bptt_rtrl_reset(net, B, NULL, 0, st), BPTT_OK);
    TRAP(BPTT_ENULL, bptt_rtrl_step(NULL, B, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_step(net, B, NULL, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_step(net, B, W, M, a->b, NULL, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_step(net, B, W, M, a->b, x, DIN, NULL, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_step(net, B, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, NULL, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_step(net, B, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, NULL));
    TRAP(BPTT_EMISMATCH, bptt_rtrl_step(other, B, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ESIZE, bptt_rtrl_step(net, 0, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ECAPACITY, bptt_rtrl_step(net, B + 1, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_EINVAL, bptt_rtrl_step(net, 1, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_EALGO, bptt_rtrl_step(net, B, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, BPTT_RTRL_NALGO, st));
    TRAP(BPTT_ELD, bptt_rtrl_step(net, B, W, M - 1, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ELD, bptt_rtrl_step(net, B, W, M, a->b, x, DIN, t, DOUT - 1, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ELD, bptt_rtrl_step(net, B, W, M, a->b, x, DIN, t, DOUT, mk, y, 1, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ELD, bptt_rtrl_step(net, B, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, 2, a->db, G, st));
    TRAP(BPTT_EOVERFLOW, bptt_rtrl_step(net, B, W, M, a->b, x, DIN, t, WILD_LD, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_EINVAL, bptt_rtrl_step(net, B, W, M, a->b, x, DIN, t, DOUT, mk, y, DOUT, &a->loss, NAN, dW, M, a->db, G, st));
    /* y, loss, db and mask are optional */
    ck_assert_int_eq(bptt_rtrl_step(net, B, W, M, NULL, x, DIN, t, DOUT, NULL,
                                    NULL, 0, NULL, 0.0, dW, M, NULL, G, st),
                     BPTT_OK);

    TRAP(BPTT_ENULL, bptt_rtrl_sequence(NULL, T, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_sequence(net, T, B, NULL, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_sequence(net, T, B, W, M, a->b, NULL, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_sequence(net, T, B, W, M, a->b, x, DIN, a->y0, DOUT, NULL, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_sequence(net, T, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, NULL, M, a->db, G, st));
    TRAP(BPTT_ENULL, bptt_rtrl_sequence(net, T, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, NULL));
    TRAP(BPTT_EMISMATCH, bptt_rtrl_sequence(other, T, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ESIZE, bptt_rtrl_sequence(net, 0, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ESIZE, bptt_rtrl_sequence(net, T, 0, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ECAPACITY, bptt_rtrl_sequence(net, T, B + 1, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_EALGO, bptt_rtrl_sequence(net, T, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, (bptt_rtrl_algo)7, st));
    TRAP(BPTT_ELD, bptt_rtrl_sequence(net, T, B, W, M, a->b, x, DIN, a->y0, DOUT - 1, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ELD, bptt_rtrl_sequence(net, T, B, W, M, a->b, x, 2, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_ELD, bptt_rtrl_sequence(net, T, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, 3, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_EOVERFLOW, bptt_rtrl_sequence(net, SIZE_MAX / 2 + 1, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_EOVERFLOW, bptt_rtrl_sequence(net, SIZE_MAX / 16, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_EOVERFLOW, bptt_rtrl_sequence(net, T, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, HUGE_LD, &a->loss, 0.0, dW, M, a->db, G, st));
    TRAP(BPTT_EINVAL, bptt_rtrl_sequence(net, T, B, W, M, a->b, x, DIN, a->y0, DOUT, t, DOUT, mk, y, DOUT, &a->loss, INFINITY, dW, M, a->db, G, st));
    ck_assert_int_eq(bptt_rtrl_sequence(net, T, B, W, M, a->b, x, DIN, a->y0,
                                        DOUT, t, DOUT, mk, y, DOUT, &a->loss,
                                        0.0, dW, M, a->db, G, st), BPTT_OK);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rtrl");
    TCase *tc = tcase_create("against-bptt");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, sequence_matches_bptt, 0, 3 * NSHAPES);
    tcase_add_loop_test(tc, per_step_matches_bptt_single_loss, 0, 2 * NSHAPES);
    tcase_add_loop_test(tc, two_phase_any_loss, 0, 2 * NSHAPES);
    tcase_add_test(tc, directional_gradcheck);
    suite_add_tcase(s, tc);
    tc = tcase_create("identities");
    tcase_add_loop_test(tc, naive_matches_gemm_per_step, 0, NSHAPES);
    tcase_add_test(tc, online_rate_zero_equals_offline);
    tcase_add_test(tc, online_learning_lowers_the_loss);
    tcase_add_loop_test(tc, beta_like_backward, 0, 2);
    tcase_add_loop_test(tc, float_matches_double, 0, NSHAPES);
    tcase_add_test(tc, size_formula);
    tcase_add_test(tc, init_in_caller_buffer);
    suite_add_tcase(s, tc);
    tc = tcase_create("traps");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, state_traps);
    tcase_add_test(tc, reset_traps);
    tcase_add_test(tc, advance_and_accumulate_traps);
    tcase_add_test(tc, step_and_sequence_traps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
