/*
 * schedule_bench.h — bptt-bench-schedule's configurations (a shape and a
 * list of arms: full storage, budgets as shares of the full-storage
 * workspace, RTRL) and their results, and the runner of each precision
 * (schedule_run.c).
 */
#ifndef BENCH_SCHEDULE_H
#define BENCH_SCHEDULE_H

#include <stddef.h>

/* At most this many arms per process. */
#define SCHED_MAX_ARMS 16

typedef struct sched_case {
    size_t din, dout, T, B;
    int reps;                     /* timed rounds (at most 16) */
    size_t narms;
    double share[SCHED_MAX_ARMS]; /* budget / full workspace; 0: full
                                     storage itself; < 0: RTRL */
} sched_case;

typedef struct sched_result {
    int refused;   /* budget below the minimum: bytes holds the minimum */
    size_t budget, bytes, seg, piece, slots, steps;
    double median; /* seconds of forward + loss + backward (RTRL: of T
                      steps of B sequences, extrapolated from steps of one
                      sequence) */
    double rtrl_step; /* RTRL: median seconds of one step of one sequence */
} sched_result;

/* Run every arm of c: each once untimed (first touch of its memory), then
 * c->reps rounds that run every arm once in turn (the arms interleaved,
 * so a change of the machine's load hits them alike).  RTRL runs steps of
 * one sequence only (its state for B sequences is B times one's; its time
 * B times, the sequences being independent).  Returns 0, or 1 if a call
 * failed.  *full_bytes: bptt_workspace_size for T, B. */
int bench_d_schedule_case(const sched_case *c, sched_result *out,
                          size_t *full_bytes);
int bench_f_schedule_case(const sched_case *c, sched_result *out,
                          size_t *full_bytes);

#endif
