/*
 * cases.h — the grid of shapes and the run of one case: check every
 * algorithm against the naive form, then time the ones that agree, with
 * their BLAS floors.  Precision-independent (through bench_prec).
 */
#ifndef BENCH_CASES_H
#define BENCH_CASES_H

#include <stddef.h>

#include "prec.h"
#include "report.h"

typedef struct bench_shape {
    size_t din, dout, T, B;
} bench_shape;

/* The default grid: the five reference shapes of DESIGN.md, then dout in
 * {16, ..., 1024} at din = dout, T = 100, B = 1 (the shapes not already
 * listed).  The quick grid: a few small ones that run, naive included, in
 * well under a minute. */
const bench_shape *bench_default_grid(size_t *n);
const bench_shape *bench_quick_grid(size_t *n);

/* What a run collects: records in (case, algorithm, pass) order and the
 * algorithms refused. */
typedef struct bench_results {
    bench_record *rec;
    size_t n, cap;
    bench_refusal *ref;
    size_t nref, capref;
} bench_results;

void bench_results_free(bench_results *r);

typedef struct bench_config {
    double budget_ms;        /* per case, algorithm and pass */
    int algo_on[BPTT_NALGO]; /* algorithms to time besides naive */
    const char *corrupt;     /* test hook: the algorithm (by name) whose
                                dL/dW is perturbed before the check */
    int threads;             /* BLAS threads, for the records */
    int progress;            /* one line of progress on stderr */
    size_t case_no, ncases;  /* for the progress line */
} bench_config;

/* One case of one precision.  Naive, the reference and baseline, always
 * runs; every other algorithm in cfg->algo_on is checked (y, dL/dW, dL/dx
 * within prec->tol of naive's, normwise) before anything is timed, and a
 * failing one is refused: its reason printed on stderr and added to
 * out->ref, no record for it.  Then each pass of each agreeing algorithm
 * is timed alone, with its floor, into out->rec.  Returns the number of
 * algorithms refused, or -1 if the case could not be set up (the reason
 * printed on stderr). */
int bench_run_case(const bench_config *cfg, const bench_prec *prec,
                   const bench_limits *lim, bench_shape s,
                   bench_results *out);

#endif
