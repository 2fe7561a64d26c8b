/*
 * Thread-safety and determinism tests: one network descriptor (and one
 * weight array) shared read-only by several threads, each with its own
 * workspace, inputs and outputs, gives bitwise the results of serial runs;
 * repeated serial calls are bitwise identical; the error detail is
 * per thread.  Run with OPENBLAS_NUM_THREADS=1 (tests/meson.build), the
 * setting OpenBLAS asks multi-threaded callers to use.
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers under -std=c11 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { NTHREADS = 4, DIN = 9, DOUT = 14, T = 12, B = 3, ROUNDS = 3 };

static const bptt_algo algos[] = {BPTT_ALGO_NAIVE, BPTT_ALGO_GEMV_GER,
                                  BPTT_ALGO_DEFERRED, BPTT_ALGO_AUTO};
#define NALGOS (sizeof algos / sizeof algos[0])

/* Everything one call sequence produces, in double and in float. */
typedef struct outs {
    double y[T * B * DOUT], dW[DOUT * (DIN + DOUT)], db[DOUT];
    double dx[T * B * DIN], dy0[B * DOUT], loss;
    float fy[T * B * DOUT], fdW[DOUT * (DIN + DOUT)], fdx[T * B * DIN];
    double floss;
} outs;

/* Shared, read-only while threads run. */
static bptt_net *net;
static tu_problem *prob[NTHREADS]; /* W, b shared: prob[0]'s */
static float fW[DOUT * (DIN + DOUT)], fx[NTHREADS][T * B * DIN];
static float ftarget[NTHREADS][T * B * DOUT];

/* forward, loss, backward with algo; returns the first failing status. */
static bptt_status run(int who, bptt_algo algo, bptt_workspace *ws,
                       bpttf_workspace *fws, outs *o)
{
    const tu_problem *p = prob[who], *s = prob[0];
    const size_t m = DIN + DOUT;
    double dy[T * B * DOUT];
    bptt_status st = bptt_forward(net, T, B, s->W, m, s->b, p->x, DIN, p->y0,
                                  DOUT, o->y, DOUT, algo, ws);
    if (!st)
        st = bptt_loss_squared(T, B, DOUT, o->y, DOUT, p->target, DOUT, NULL,
                               &o->loss, dy, DOUT);
    if (!st)
        st = bptt_backward(net, T, B, s->W, m, dy, DOUT, 0, o->dW, m, o->db,
                           o->dx, DIN, o->dy0, DOUT, algo, ws);
    float fdy[T * B * DOUT];
    if (!st)
        st = bpttf_forward(net, T, B, fW, m, NULL, fx[who], DIN, NULL, 0, o->fy,
                           DOUT, algo, fws);
    if (!st)
        st = bpttf_loss_squared(T, B, DOUT, o->fy, DOUT, ftarget[who], DOUT,
                                NULL, &o->floss, fdy, DOUT);
    if (!st)
        st = bpttf_backward(net, T, B, fW, m, fdy, DOUT, 0, o->fdW, m, NULL,
                            o->fdx, DIN, NULL, 0, algo, fws);
    return st;
}

static outs serial[NTHREADS][NALGOS];

typedef struct job {
    int who;
    pthread_barrier_t *barrier;
    int mismatches, failures;
    char detail_ok;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    bptt_workspace *ws = NULL;
    bpttf_workspace *fws = NULL;
    outs *o = malloc(sizeof *o);
    if (bptt_workspace_alloc(net, T, B, &ws) ||
        bpttf_workspace_alloc(net, T, B, &fws) || !o) {
        j->failures++;
        pthread_barrier_wait(j->barrier);
        pthread_barrier_wait(j->barrier);
        goto done;
    }
    /* Each thread fails with its own detail, all at once, then reads its
     * own back: the detail is thread-local. */
    size_t bytes;
    bptt_workspace_size(net, 0, 100 + (size_t)j->who, &bytes);
    pthread_barrier_wait(j->barrier);
    char want[128];
    snprintf(want, sizeof want, "bptt_workspace_size: Tmax (0) and Bmax (%zu) "
             "must be > 0", 100 + (size_t)j->who);
    j->detail_ok = strcmp(bptt_error_detail(), want) == 0;
    pthread_barrier_wait(j->barrier);

    for (int round = 0; round < ROUNDS; round++)
        for (size_t a = 0; a < NALGOS; a++) {
            memset(o, 0xFF, sizeof *o); /* NaN: stale values cannot pass */
            if (run(j->who, algos[a], ws, fws, o) != BPTT_OK)
                j->failures++;
            else if (memcmp(o, &serial[j->who][a], sizeof *o) != 0)
                j->mismatches++;
        }
done:
    free(o);
    bptt_workspace_free(ws);
    bpttf_workspace_free(fws);
    return NULL;
}

static void setup(void)
{
    net = tu_mixed_net(DIN, DOUT);
    for (int w = 0; w < NTHREADS; w++)
        prob[w] = tu_problem_new(tu_mixed_net(DIN, DOUT), T, B, 0,
                                 TU_BIAS | TU_Y0, 500 + (unsigned)w);
    for (size_t i = 0; i < DOUT * (DIN + DOUT); i++)
        fW[i] = (float)prob[0]->W[i];
    for (int w = 0; w < NTHREADS; w++) {
        for (size_t i = 0; i < T * B * DIN; i++)
            fx[w][i] = (float)prob[w]->x[i];
        for (size_t i = 0; i < T * B * DOUT; i++)
            ftarget[w][i] = (float)prob[w]->target[i];
    }
}

static void teardown(void)
{
    for (int w = 0; w < NTHREADS; w++)
        tu_problem_free(prob[w]);
    bptt_net_free(net);
}

/* The serial reference, on fresh workspaces; with repeat, also the proof
 * of determinism: two more runs on the reused workspaces are bitwise equal
 * to the first.  (Each Check test runs in its own process, so each
 * computes the reference itself.) */
static void compute_serial(int repeat)
{
    outs *again = malloc(sizeof *again);
    for (int w = 0; w < NTHREADS; w++)
        for (size_t a = 0; a < NALGOS; a++) {
            bptt_workspace *ws;
            bpttf_workspace *fws;
            ck_assert_int_eq(bptt_workspace_alloc(net, T, B, &ws), BPTT_OK);
            ck_assert_int_eq(bpttf_workspace_alloc(net, T, B, &fws), BPTT_OK);
            memset(&serial[w][a], 0xFF, sizeof(outs));
            ck_assert_int_eq(run(w, algos[a], ws, fws, &serial[w][a]), BPTT_OK);
            for (int rep = 0; repeat && rep < 2; rep++) {
                memset(again, 0xFF, sizeof *again);
                ck_assert_int_eq(run(w, algos[a], ws, fws, again), BPTT_OK);
                ck_assert_msg(memcmp(again, &serial[w][a], sizeof *again) == 0,
                              "problem %d, %s: repeat %d differs", w,
                              bptt_algo_name(algos[a]), rep);
            }
            bptt_workspace_free(ws);
            bpttf_workspace_free(fws);
        }
    free(again);
}

START_TEST(serial_runs_repeat_bitwise)
{
    compute_serial(1);
}
END_TEST

START_TEST(threads_match_serial_bitwise)
{
    pthread_t th[NTHREADS];
    job jobs[NTHREADS];
    pthread_barrier_t barrier;
    compute_serial(0);
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, NTHREADS), 0);
    for (int w = 0; w < NTHREADS; w++) {
        jobs[w] = (job){.who = w, .barrier = &barrier};
        ck_assert_int_eq(pthread_create(&th[w], NULL, worker, &jobs[w]), 0);
    }
    for (int w = 0; w < NTHREADS; w++)
        ck_assert_int_eq(pthread_join(th[w], NULL), 0);
    pthread_barrier_destroy(&barrier);
    for (int w = 0; w < NTHREADS; w++) {
        ck_assert_msg(jobs[w].failures == 0, "thread %d: %d failed calls", w,
                      jobs[w].failures);
        ck_assert_msg(jobs[w].mismatches == 0, "thread %d: %d of %d runs "
                      "differ from serial", w, jobs[w].mismatches,
                      ROUNDS * (int)NALGOS);
        ck_assert_msg(jobs[w].detail_ok, "thread %d saw another's detail", w);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("shared descriptor");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, serial_runs_repeat_bitwise);
    tcase_add_test(tc, threads_match_serial_bitwise);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
