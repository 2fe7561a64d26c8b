/*
 * timing.h — the clock and the budgeted repetition loop every timed call
 * goes through.  Precision-independent.
 */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <stddef.h>

/* Milliseconds on CLOCK_MONOTONIC (arbitrary origin). */
double bench_now_ms(void);

/* The calling thread's CPU time in ms (CLOCK_THREAD_CPUTIME_ID): on a
 * shared machine it leaves out the time the thread waited for a core,
 * which wall time counts; it sees only this thread's work (one BLAS
 * thread, no workspace threads). */
double bench_thread_cpu_ms(void);

/* One timed call: returns 0 on success, anything else stops the loop. */
typedef int (*bench_call)(void *ctx);

/* At least this many samples of a call slower than the budget, as long as
 * they take less than this many budgets in all. */
#define BENCH_MIN_SAMPLES 5
#define BENCH_MIN_FACTOR 10

/* Call call(ctx) warmup times untimed, then time single calls until
 * budget_ms have passed in timed calls — and at least BENCH_MIN_SAMPLES
 * calls while they fit in BENCH_MIN_FACTOR·budget_ms — at least once and
 * at most cap times; the time of each (ms) goes to samples[0..*n-1].  Returns 0, or the
 * first non-zero value call returned (then *n counts the calls timed
 * before it). */
int bench_repeat(bench_call call, void *ctx, int warmup, double budget_ms,
                 double *samples, size_t cap, size_t *n);

#endif
