/*
 * schedule_bench.h — bptt-bench-schedule's one configuration (a shape, a
 * budget as a share of the full-storage workspace, 0 for full storage) and
 * its result, and the runner of each precision (schedule_run.c).
 */
#ifndef BENCH_SCHEDULE_H
#define BENCH_SCHEDULE_H

#include <stddef.h>

typedef struct sched_case {
    size_t din, dout, T, B;
    double share; /* budget / full workspace; 0: full storage itself */
    int reps;     /* timed runs (at most 16), the median reported */
} sched_case;

typedef struct sched_result {
    size_t full_bytes, budget, bytes, seg, slots, steps;
    double median; /* seconds of forward + loss + backward */
} sched_result;

int bench_d_schedule_case(const sched_case *c, sched_result *out);
int bench_f_schedule_case(const sched_case *c, sched_result *out);

#endif
