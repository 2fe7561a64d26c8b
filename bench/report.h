/*
 * report.h — what one run reports and the three forms it takes: a table
 * for people (stdout), CSV (one row per case, algorithm and pass) and JSON
 * (the same records plus the environment and the limits).
 * Precision-independent; writes only to the FILE it is given.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <bptt.h>
#include <stddef.h>
#include <stdio.h>

#include "stats.h"

/* One (case, algorithm, pass).  Numbers that do not apply are NaN (empty
 * in CSV, null in JSON): the floor of an algorithm that calls no BLAS, the
 * speedup when naive was not timed, the quartiles of a derived time.
 * algo is a bptt algorithm, an RTRL one ("rtrl-naive", "rtrl-gemm") or a
 * peer ("onednn", "torch"). */
typedef struct bench_record {
    const char *algo, *precision, *pass;
    const char *activations;   /* "tanh" (every unit) or "mixed" */
    size_t din, dout, T, B;
    int threads;               /* BLAS threads */
    bench_summary time;        /* ms */
    double flops, gflops;      /* docs/algorithms.md's counts; flops / median */
    double speedup;            /* naive's median / this median */
    int is_default;            /* what BPTT_ALGO_AUTO resolves to here */
    const char *limit;         /* the roof that binds this pass: "gemm"
                                  (its flops at the GEMM limit) or "read"
                                  (its sequential reads of Wy at the read
                                  limit), whichever takes longer */
    double limit_gflops;       /* flops / that least time: the GFLOP/s the
                                  pass could reach at best here */
    double fraction;           /* gflops / limit_gflops = the least time /
                                  median; <= 1 whenever the limits hold;
                                  NaN for a derived time */
    double floor_ms;           /* median of the algorithm's bare BLAS calls */
    double floor_ratio;        /* median / floor_ms */
    int derived;               /* 1: median is a difference of two measured
                                  medians (backward − backward_data), not a
                                  measurement; time.n = 0, no quartiles */
    double memory_bytes;       /* bptt: bptt_workspace_size(T, B) (a gated
                                  cell's: bptt_gated_workspace_size); RTRL:
                                  bptt_rtrl_size(B); peers: NaN */
    const char *cell;          /* "vanilla" (Network A), "lstm" or "gru":
                                  then dout is the cell's n units and
                                  activations "gates" (σ and tanh, fixed) */
} bench_record;

/* An algorithm refused on a case: its gradient disagreed with the naive
 * form's, or a call failed.  No record is reported for it.  The same
 * struct holds a note about a case (algo: what it is about, reason: the
 * text). */
typedef struct bench_refusal {
    const char *algo, *precision;
    size_t din, dout, T, B;
    char reason[256];
    const char *activations;   /* "tanh" or "mixed" (NULL: "tanh") */
} bench_refusal;

/* The read bandwidth over arrays of one size (bandwidth.h). */
typedef struct bench_read_limit {
    size_t bytes;              /* the array: a case's Wy, dout² elements */
    double gbs;                /* 1e9 bytes per second, one thread */
} bench_read_limit;

enum { BENCH_MAX_READS = 32 };

/* The limits of one precision: the best measured in the run so far. */
typedef struct bench_limits {
    const char *precision;
    size_t gemm_n;             /* the GEMM, n x n x n, that ran fastest */
    double gemm_gflops;        /* its GFLOP/s: the roof of every flop */
    bench_read_limit read[BENCH_MAX_READS]; /* the roof of the recurrence's
                                  reads of Wy, by Wy's size: measured
                                  before each case for its size */
    size_t nread;
} bench_limits;

/* The read limit over arrays of bytes bytes, NaN if none was measured. */
double bench_read_limit_gbs(const bench_limits *lim, size_t bytes);

/* Keep gbs as the read limit of bytes if it beats the one kept (the best
 * of the run: other load only ever slows a probe); a size beyond
 * BENCH_MAX_READS sizes is not kept. */
void bench_read_limit_keep(bench_limits *lim, size_t bytes, double gbs);

/* Where and how the figures were made. */
typedef struct bench_env {
    char cpu[256];             /* /proc/cpuinfo "model name" */
    long ncpu;                 /* processors online */
    bptt_blas_info blas;       /* the BLAS and its kernels' ISA */
    const char *compiler, *cflags;
    char date[32];             /* ISO 8601, UTC */
    const char *bptt_version;
    const char *command;       /* the command line */
    double budget_ms;
    char peers[512];           /* the peers run and their versions, e.g.
                                  "onednn (oneDNN 2.6.3), torch (...)" */
} bench_env;

/* The CSV columns, in order, comma-separated (no newline). */
extern const char bench_csv_columns[];

/* CSV: the header line, then one line per record.  A field that does not
 * apply is empty; strings are quoted only when they hold a comma, a quote
 * or a line break.  Returns 0, or -1 if the stream reports an error. */
int bench_csv_write(FILE *f, const bench_record *rec, size_t n);

/* s as a JSON string, quotes and escapes included. */
void bench_json_string(FILE *f, const char *s);

/* One record as a JSON object with the CSV's columns as keys. */
void bench_json_record(FILE *f, const bench_record *r);

/* The BLAS report as a JSON object: every field of bptt_blas_info (the
 * ISA levels by name, weaker as a boolean) and "representative": false
 * when the BLAS runs weaker kernels than the CPU supports. */
void bench_json_blas(FILE *f, const bptt_blas_info *b);

/* The whole JSON document: {"blas", "environment", "limits", "records",
 * "refused", "notes"}.  Returns 0, or -1 if the stream reports an
 * error. */
int bench_json_write(FILE *f, const bench_env *env, const bench_limits *lim,
                     size_t nlim, const bench_record *rec, size_t n,
                     const bench_refusal *ref, size_t nref,
                     const bench_refusal *note, size_t nnote);

/* The readable table: the environment, the limits (one line per
 * precision), then per case.  The environment begins with the BLAS
 * report, after the warning line when the BLAS is weaker. */
void bench_table_env(FILE *f, const bench_env *env);
/* "NOT REPRESENTATIVE: <remedy>" on a line of its own when the BLAS runs
 * weaker kernels than the CPU supports; nothing otherwise.  Printed first
 * and again at the end of a run. */
void bench_table_warning(FILE *f, const bptt_blas_info *b);
void bench_table_limits(FILE *f, const bench_limits *lim, size_t nlim);
/* What the %limit column and its "of" column mean (once, under the
 * limits). */
void bench_table_limits_legend(FILE *f);
/* The n records of one case (same precision, shape and activations), a
 * heading with what BPTT_ALGO_AUTO resolves to and the default's speedup,
 * one line per record, and a footnote under a derived time. */
void bench_table_case(FILE *f, const bench_record *rec, size_t n);

/* The ratios under a case's table, for the case's records all[first..n-1]
 * (earlier records are searched for the all-tanh twin of a mixed case):
 *   - each peer's backward and forward_backward median over bptt's
 *     default's (> 1: the peer is slower), each followed by its own
 *     verdict, "(bptt faster)" or "(<peer> faster)";
 *   - a mixed-activation case's default forward and backward over those
 *     of the all-tanh case of the same precision and shape;
 *   - RTRL: each algorithm's sequence over the default's forward_backward
 *     (the cost ratio) and its memory over BPTT's workspace; rtrl-gemm as
 *     a fraction of the GEMM limit.
 * Nothing for a case that has none of these. */
void bench_table_ratios(FILE *f, const bench_record *all, size_t first,
                        size_t n);

#endif
