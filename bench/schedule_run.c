/*
 * schedule_run.c — one timed configuration of bptt-bench-schedule, in one
 * precision (breal.h; compiled twice): forward, squared-error loss and
 * backward (dW, db) over T steps of B sequences, either with full storage
 * (bptt_workspace) or through a schedule planned within a budget
 * (bptt_schedule_plan).  Public API only.
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
    R *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
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

int BX(schedule_case)(const sched_case *c, sched_result *out)
{
    const size_t din = c->din, dout = c->dout, m = din + dout, T = c->T,
                 B = c->B, TB = T * B;
    bptt_net *net;
    if (bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &net))
        return 1;
    unsigned seed = 7;
    R *W = fill(dout * m, 1.0 / (double)m, &seed), *b = fill(dout, 0.1, &seed);
    R *x = fill(TB * din, 1, &seed), *tg = fill(TB * dout, 0.5, &seed);
    R *dW = calloc(dout * m, sizeof *dW), *db = calloc(dout, sizeof *db);
    size_t full;
    P(workspace_size)(net, T, B, &full);
    out->full_bytes = full;
    double t[16];
    int reps = c->reps < 16 ? c->reps : 16, rc = 0;
    if (c->share == 0) { /* full storage */
        WS *ws = NULL;
        R *y = malloc(TB * dout * sizeof *y), *dy = malloc(TB * dout * sizeof *dy);
        rc = P(workspace_alloc)(net, T, B, &ws) != BPTT_OK;
        for (int k = 0; !rc && k < reps; k++) {
            double loss, t0 = now();
            rc |= P(forward)(net, T, B, W, m, b, x, din, NULL, 0, y, dout,
                             BPTT_ALGO_AUTO, ws) != BPTT_OK;
            rc |= P(loss_squared)(T, B, dout, y, dout, tg, dout, NULL, &loss,
                                  dy, dout) != BPTT_OK;
            rc |= P(backward)(net, T, B, W, m, dy, dout, 0, dW, m, db, NULL, 0,
                              NULL, 0, BPTT_ALGO_AUTO, ws) != BPTT_OK;
            t[k] = now() - t0;
        }
        out->bytes = full;
        out->seg = T;
        out->slots = 0;
        out->steps = T;
        P(workspace_free)(ws);
        free(y);
        free(dy);
    } else {
        SCH *s = NULL;
        out->budget = (size_t)((double)full * c->share);
        if (P(schedule_plan)(net, T, B, out->budget, &s) != BPTT_OK) {
            P(schedule_min_bytes)(net, T, B, &out->bytes);
            rc = 3; /* below the minimum: bytes holds it */
        }
        bptt_schedule_info info = {0};
        if (!rc)
            rc = P(schedule_info_get)(s, &info) != BPTT_OK;
        if (!rc)
            out->bytes = info.bytes;
        out->seg = info.seg;
        out->slots = info.slots;
        out->steps = info.forward_steps;
        for (int k = 0; !rc && k < reps; k++) {
            double loss, t0 = now();
            rc |= P(schedule_run_squared)(s, W, m, b, x, din, NULL, 0, tg,
                                          dout, NULL, 0, dW, m, db, NULL, 0,
                                          NULL, 0, NULL, 0, &loss) != BPTT_OK;
            t[k] = now() - t0;
        }
        P(schedule_free)(s);
    }
    if (!rc) {
        qsort(t, (size_t)reps, sizeof *t, cmp);
        out->median = t[reps / 2];
    }
    free(W); free(b); free(x); free(tg); free(dW); free(db);
    bptt_net_free(net);
    return rc;
}
