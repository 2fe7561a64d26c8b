/*
 * timing.h — the clock and the budgeted repetition loop every timed call
 * goes through.  Precision-independent.
 */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <stddef.h>

/* Milliseconds on CLOCK_MONOTONIC (arbitrary origin). */
double bench_now_ms(void);

/* One timed call: returns 0 on success, anything else stops the loop. */
typedef int (*bench_call)(void *ctx);

/* Call call(ctx) warmup times untimed, then time single calls until
 * budget_ms have passed in timed calls, at least once and at most cap
 * times; the time of each (ms) goes to samples[0..*n-1].  Returns 0, or the
 * first non-zero value call returned (then *n counts the calls timed
 * before it). */
int bench_repeat(bench_call call, void *ctx, int warmup, double budget_ms,
                 double *samples, size_t cap, size_t *n);

#endif
