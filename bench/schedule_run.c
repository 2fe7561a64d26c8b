/*
 * schedule_run.c — the timed arms of bptt-bench-schedule, in one precision
 * (breal.h; compiled twice): forward, squared-error loss and backward (dW,
 * db) over T steps of B sequences, with full storage (bptt_workspace, its
 * memory touched by an untimed run first, as a training loop reuses it),
 * through a schedule planned within a budget (bptt_schedule_plan), or by
 * RTRL (bptt_rtrl_step, one sequence).  Public API only.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "breal.h"
#include "schedule_bench.h"

#ifdef BENCH_SINGLE
typedef bpttf_schedule SCH;
#else
typedef bptt_schedule SCH;
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static R *fill(size_t n, double scale, unsigned *seed)
{
    R *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; p && i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        p[i] = (R)(scale * ((double)(*seed >> 8 & 0xFFFF) / 32768.0 - 1.0));
    }
    return p;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp);
    return t[n / 2];
}

/* The case's arrays and one arm's state. */
typedef struct arrays {
    bptt_net *net;
    size_t din, dout, m, T, B;
    R *W, *b, *x, *tg, *dW, *db, *y, *dy;
} arrays;

typedef struct arm {
    double share;
    WS *ws;   /* full storage */
    SCH *s;   /* a schedule */
    RS *rtrl; /* RTRL, one sequence */
} arm;

/* One run of an arm; RTRL: one step of one sequence. */
static int run_arm(const arrays *a, const arm *q, size_t step)
{
    const size_t din = a->din, dout = a->dout, m = a->m, T = a->T, B = a->B;
    double loss;
    if (q->ws)
        return P(forward)(a->net, T, B, a->W, m, a->b, a->x, din, NULL, 0,
                          a->y, dout, BPTT_ALGO_AUTO, q->ws) != BPTT_OK ||
               P(loss_squared)(T, B, dout, a->y, dout, a->tg, dout, NULL,
                               &loss, a->dy, dout) != BPTT_OK ||
               P(backward)(a->net, T, B, a->W, m, a->dy, dout, 0, a->dW, m,
                           a->db, NULL, 0, NULL, 0, BPTT_ALGO_AUTO,
                           q->ws) != BPTT_OK;
    if (q->s)
        return P(schedule_run_squared)(q->s, a->W, m, a->b, a->x, din, NULL,
                                       0, a->tg, dout, NULL, 0, a->dW, m,
                                       a->db, NULL, 0, NULL, 0, NULL, 0,
                                       &loss) != BPTT_OK;
    /* RTRL: step t of sequence 0 (rows t*B of x and the targets), the
     * gradient accumulating as in a stream */
    const size_t t = step % T;
    return P(rtrl_step)(a->net, 1, a->W, m, a->b, a->x + t * B * din, din,
                        a->tg + t * B * dout, dout, NULL, a->y, dout, &loss,
                        1, a->dW, m, a->db, BPTT_RTRL_AUTO,
                        q->rtrl) != BPTT_OK;
}

/* Set up one arm: its memory, and what the result reports of it. */
static int setup(const arrays *a, arm *q, size_t full, sched_result *o)
{
    const size_t T = a->T, B = a->B;
    if (q->share == 0) {
        o->bytes = full;
        o->seg = o->piece = T;
        o->steps = T;
        return P(workspace_alloc)(a->net, T, B, &q->ws) != BPTT_OK;
    }
    if (q->share < 0) {
        /* the state of B sequences, though only one runs */
        if (P(rtrl_size)(a->net, B, &o->bytes) != BPTT_OK)
            return 1;
        return P(rtrl_alloc)(a->net, 1, &q->rtrl) != BPTT_OK ||
               P(rtrl_reset)(a->net, 1, NULL, 0, q->rtrl) != BPTT_OK;
    }
    o->budget = (size_t)((double)full * q->share);
    if (P(schedule_plan)(a->net, T, B, o->budget, &q->s) != BPTT_OK) {
        o->refused = 1;
        q->s = NULL;
        return P(schedule_min_bytes)(a->net, T, B, &o->bytes) != BPTT_OK;
    }
    bptt_schedule_info info;
    if (P(schedule_info_get)(q->s, &info) != BPTT_OK)
        return 1;
    o->bytes = info.bytes;
    o->seg = info.seg;
    o->piece = info.piece;
    o->slots = info.slots;
    o->steps = info.forward_steps;
    return 0;
}

int BX(schedule_case)(const sched_case *c, sched_result *out,
                      size_t *full_bytes)
{
    const size_t din = c->din, dout = c->dout, m = din + dout, T = c->T,
                 B = c->B, TB = T * B;
    arrays a = {NULL, din, dout, m, T, B, NULL, NULL, NULL, NULL, NULL, NULL,
                NULL, NULL};
    if (bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &a.net))
        return 1;
    unsigned seed = 7;
    a.W = fill(dout * m, 1.0 / (double)m, &seed);
    a.b = fill(dout, 0.1, &seed);
    a.x = fill(TB * din, 1, &seed);
    a.tg = fill(TB * dout, 0.5, &seed);
    a.dW = calloc(dout * m, sizeof(R));
    a.db = calloc(dout, sizeof(R));
    int full_arm = 0;
    for (size_t i = 0; i < c->narms; i++)
        full_arm |= c->share[i] == 0;
    if (full_arm || c->narms == 0) {
        a.y = malloc(TB * dout * sizeof(R));
        a.dy = malloc(TB * dout * sizeof(R));
    } else { /* RTRL's y of one step */
        a.y = malloc(dout * sizeof(R));
    }
    arm q[SCHED_MAX_ARMS] = {{0}};
    int rc = !a.W || !a.b || !a.x || !a.tg || !a.dW || !a.db || !a.y ||
             P(workspace_size)(a.net, T, B, full_bytes) != BPTT_OK;
    for (size_t i = 0; !rc && i < c->narms; i++) {
        q[i].share = c->share[i];
        out[i] = (sched_result){0};
        rc = setup(&a, &q[i], *full_bytes, &out[i]);
    }
    const int reps = c->reps < 16 ? c->reps : 16;
    double t[SCHED_MAX_ARMS][16];
    size_t step = 0;
    for (int k = -1; !rc && k < reps; k++) /* k = -1: untimed */
        for (size_t i = 0; !rc && i < c->narms; i++) {
            if (out[i].refused)
                continue;
            const double t0 = now();
            rc = run_arm(&a, &q[i], step);
            if (k >= 0)
                t[i][k] = now() - t0;
            step += q[i].rtrl != NULL;
        }
    for (size_t i = 0; !rc && i < c->narms; i++) {
        if (out[i].refused)
            continue;
        out[i].median = median(t[i], reps);
        if (q[i].rtrl) { /* B sequences of T steps, from one's step */
            out[i].rtrl_step = out[i].median;
            out[i].median *= (double)T * (double)B;
        }
    }
    for (size_t i = 0; i < c->narms; i++) {
        P(workspace_free)(q[i].ws);
        P(schedule_free)(q[i].s);
        P(rtrl_free)(q[i].rtrl);
    }
    free(a.W); free(a.b); free(a.x); free(a.tg); free(a.dW); free(a.db);
    free(a.y); free(a.dy);
    bptt_net_free(a.net);
    return rc;
}
