/*
 * timing.c — CLOCK_MONOTONIC and the budgeted repetition loop.  Inputs and
 * memory are the caller's, prepared before: only the call is inside the
 * timed region.
 */
#define _POSIX_C_SOURCE 200809L
#include "timing.h"

#include <time.h>

static double ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

double bench_now_ms(void)
{
    return ms(CLOCK_MONOTONIC);
}

double bench_thread_cpu_ms(void)
{
    return ms(CLOCK_THREAD_CPUTIME_ID);
}

int bench_repeat(bench_call call, void *ctx, int warmup, double budget_ms,
                 double *samples, size_t cap, size_t *n)
{
    *n = 0;
    for (int i = 0; i < warmup; i++) {
        int rc = call(ctx);
        if (rc)
            return rc;
    }
    double spent = 0;
    /* At least one sample, however slow the call (naive at large shapes);
     * and a call slower than the budget is still timed BENCH_MIN_SAMPLES
     * times while that costs less than BENCH_MIN_FACTOR budgets, so that
     * a median of one is the exception (naive at large shapes) and not the
     * rule for every large case. */
    while (*n < cap &&
           (*n == 0 || spent < budget_ms ||
            (*n < BENCH_MIN_SAMPLES && spent < BENCH_MIN_FACTOR * budget_ms))) {
        const double t0 = bench_now_ms();
        int rc = call(ctx);
        const double dt = bench_now_ms() - t0;
        if (rc)
            return rc;
        samples[(*n)++] = dt;
        spent += dt;
    }
    return 0;
}
