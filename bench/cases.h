/*
 * cases.h — the grid of shapes and the run of one case: check every
 * algorithm (bptt's, RTRL's, the peers') against the naive form, then time
 * the ones that agree, with their BLAS floors.  Precision-independent
 * (through bench_prec).
 */
#ifndef BENCH_CASES_H
#define BENCH_CASES_H

#include <stddef.h>

#include "prec.h"
#include "report.h"

/* A case: a shape and the units' activations — every unit tanh (the
 * network the peers implement), or mixed: identity, tanh, logistic, relu,
 * softplus, cycled over the units (issue 4's cost of per-unit
 * activations). */
typedef struct bench_shape {
    size_t din, dout, T, B;
    int mixed;
    bptt_cell cell; /* BPTT_CELL_VANILLA: Network A; LSTM or GRU: a gated
                       cell (bptt/gated.h) of din inputs and dout units */
} bench_shape;

/* The shape's gate count: 1 for Network A, G = 4 (LSTM), 3 (GRU).  The
 * flops, the recurrent weights read per step and the rows of dL/dW of a
 * gated cell are those of Network A with G·dout rows. */
size_t bench_shape_gates(bench_shape s);

/* "tanh" or "mixed" (a gated cell's records say "gates"). */
const char *bench_activations_name(int mixed);

/* The default grid: the five reference shapes (docs/benchmark.md), then
 * dout in {16, ..., 1024} at din = dout, T = 100, B = 1 (the shapes not
 * already listed), then (256,256,100,32) with mixed units, timed against its
 * all-tanh twin.  The quick grid: a few small ones that run, naive
 * included, in well under a minute. */
const bench_shape *bench_default_grid(size_t *n);
const bench_shape *bench_quick_grid(size_t *n);

/* What a run collects: records in (case, algorithm, pass) order, the
 * algorithms refused and the notes (a peer skipped, RTRL's memory
 * crossover), each note naming its case. */
typedef struct bench_results {
    bench_record *rec;
    size_t n, cap;
    bench_refusal *ref;
    size_t nref, capref;
    bench_refusal *note;
    size_t nnote, capnote;
} bench_results;

void bench_results_free(bench_results *r);

/* RTRL's rows: rtrl-naive and rtrl-gemm (index 0 and 1 of rtrl_on). */
enum { BENCH_RTRL_NAIVE, BENCH_RTRL_GEMM, BENCH_NRTRL };

/* "rtrl-naive", "rtrl-gemm"; NULL past the last. */
const char *bench_rtrl_name(size_t i);

typedef struct bench_config {
    double budget_ms;        /* per case, algorithm and pass */
    int algo_on[BPTT_NALGO]; /* algorithms to time besides naive */
    int rtrl_on[BENCH_NRTRL];/* RTRL algorithms to time ... */
    int rtrl_all_shapes;     /* ... on every shape, not only where dout <=
                                rtrl_max_dout[i] */
    size_t rtrl_max_dout[BENCH_NRTRL];
    const char *peers[8];    /* peers to run (available ones), NULL-ended */
    const char *corrupt;     /* test hook: the algorithm or peer (by name)
                                whose dL/dW is perturbed before the check */
    int threads;             /* BLAS threads (also the peers') */
    size_t check_steps;      /* gated cells: check over the first this many
                                steps (the naive form is slow) */
    int progress;            /* one line of progress on stderr */
    size_t case_no, ncases;  /* for the progress line */
} bench_config;

/* One case of one precision.  Naive, the reference and baseline, always
 * runs; every other algorithm in cfg->algo_on is checked (y, dL/dW, dL/dx
 * within prec->tol of naive's, normwise) before anything is timed, and a
 * failing one is refused: its reason printed on stderr and added to
 * out->ref, no record for it.  Then each pass of each agreeing algorithm
 * is timed alone, with its floor, into out->rec; then the peers (tanh
 * units only) and RTRL, each checked the same way first.  Returns the
 * number of algorithms refused, or -1 if the case could not be set up (the
 * reason printed on stderr). */
int bench_run_case(const bench_config *cfg, const bench_prec *prec,
                   const bench_limits *lim, bench_shape s,
                   bench_results *out);

/* ---- The parts of a case's run (cases.c, peer_case.c) ------------------ */

/* Append a record; 0, or -1 when memory runs out. */
int bench_add_record(bench_results *out, const bench_record *r);

/* Refuse algo on this case: drop the records from out->rec[first] on
 * (its own, so that no time of it is reported), the reason on stderr and
 * in out->ref; 0, or -1 when memory runs out. */
int bench_refuse(const bench_config *cfg, bench_results *out, size_t first,
                 const bench_prec *prec, bench_shape s, const char *algo,
                 const char *reason);

/* The check of algo's (or a peer's) outputs in the problem p, those named
 * in what (BENCH_CHECK_*), against the naive reference, after the test
 * hook cfg->corrupt: a reason in reason if they differ by more than
 * prec->tol (normwise relative), else reason untouched.  bench_check_by
 * does it through the given check and corrupt (a gated problem's);
 * bench_check through prec's. */
void bench_check_by(const bench_config *cfg, const bench_prec *prec,
                    double (*check)(const void *, unsigned, const char **),
                    void (*corrupt)(void *), void *p, const char *algo,
                    unsigned what, char *reason, size_t size);
void bench_check(const bench_config *cfg, const bench_prec *prec, void *p,
                 const char *algo, unsigned what, char *reason, size_t size);

/* A note about subject on this case, kept in out->note (and shown under
 * the case's table); 0, or -1 when memory runs out. */
int bench_note(bench_results *out, const bench_prec *prec, bench_shape s,
               const char *subject, const char *text);

/* The progress line on stderr (when cfg->progress), and its erasure. */
void bench_progress(const bench_config *cfg, const bench_prec *prec,
                    bench_shape s, const char *algo, const char *what);
void bench_clear_progress(const bench_config *cfg);

/* Flops of a pass of a bptt algorithm or a peer (docs/algorithms.md, "The
 * performance model"; ∂L/∂x included in backward); RTRL's passes by
 * bench_flops_rtrl. */
double bench_pass_flops(bench_pass pass, bench_shape s);

/* Bytes of Wy a pass must read one step after another: dout² elements of
 * elem bytes per step of a recurrence — T − 1 steps in forward (y(0) = 0
 * needs no product), in backward and backward_data (δ(T+1) = 0), twice
 * that in forward_backward, none in backward_weights (one GEMM over all
 * steps) and in RTRL's passes (GEMM-bound).  Each step needs the previous
 * one's result, so these reads cannot overlap across steps, and Wy must be
 * read whole at every step, whatever B. */
double bench_pass_read_bytes(bench_pass pass, bench_shape s, size_t elem);

/* The least time (ms) a pass of flops flops that reads read_bytes of Wy in
 * sequence can take: the longer of its flops at gemm_gflops and its reads
 * at read_gbs (a NaN or zero rate or amount is left out).  *roof gets
 * "gemm" or "read", the one that binds.  Both roofs are limits of any
 * implementation, so a pass timed at the best the machine allows reaches
 * 100% and no more. */
double bench_bound_ms(double flops, double read_bytes, double gemm_gflops,
                      double read_gbs, const char **roof);

/* A record of a timed (or derived) pass with the figures that follow from
 * its median: GFLOP/s; the binding roof, the pass's least time under the
 * limits lim (the read limit of the case's Wy, scaled by cfg->threads:
 * each thread streams its own share) and the fraction of it reached; the
 * speedup over naive_ms (NaN: none). */
bench_record bench_make_record(const bench_config *cfg,
                               const bench_prec *prec, const bench_limits *lim,
                               bench_shape s, const char *algo,
                               bench_pass pass, bench_summary t, double flops,
                               double naive_ms);

/* What the peers are run on: a problem p and how to reach its arrays.
 * io gives the inputs and the output arrays check() compares with the
 * naive reference; cell is the protocol's (0 Network A, 1 LSTM, 2 GRU).
 * With check_T = 0 the timed run's outputs are checked (Network A: naive
 * ran at the full T); otherwise the check is a run of its own over the
 * first check_T steps (one warm-up, one repetition: a peer that
 * accumulates its gradients fails it) before the timed run at T. */
typedef struct bench_peer_case {
    void *p;
    unsigned cell;
    size_t check_T;
    void (*io)(void *p, bench_io *io);
    double (*check)(const void *p, unsigned what, const char **worst);
    void (*corrupt)(void *p);
} bench_peer_case;

/* Run the peers of cfg->peers on pc (whose naive reference is kept),
 * check their y, dL/dW, dL/dx like bptt's algorithms and record their
 * forward, backward and forward_backward.  A peer that cannot do the case
 * (oneDNN in double) is skipped with a note.  naive_ms holds naive's
 * medians per pass (NaN where none).  Returns the number of peers
 * refused. */
int bench_run_peers(const bench_config *cfg, const bench_prec *prec,
                    const bench_limits *lim, bench_shape s,
                    const bench_peer_case *pc, const double *naive_ms,
                    bench_results *out);

/* The gated cell of s (LSTM or GRU, bptt/gated.h) on one case: the
 * deferred algorithm checked against the naive form over the first
 * cfg->check_steps steps, then its forward, backward and forward_backward
 * timed at T with their BLAS floors, then the peers, each checked the same
 * way before it is timed (gated_case.c).  Returns as bench_run_case. */
int bench_run_gated_case(const bench_config *cfg, const bench_prec *prec,
                         const bench_limits *lim, bench_shape s,
                         bench_results *out);

/* The version a peer reported when it last ran ("" if it has not). */
const char *bench_peer_version(const char *name);

#endif
