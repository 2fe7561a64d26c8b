/*
 * report.h — what one run reports and the three forms it takes: a table
 * for people (stdout), CSV (one row per case, algorithm and pass) and JSON
 * (the same records plus the environment and the limits).
 * Precision-independent; writes only to the FILE it is given.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

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
    const char *limit;         /* "gemv" (B = 1) or "gemm" (B > 1) */
    double limit_gflops;       /* that limit in GFLOP/s, this precision */
    double fraction;           /* gflops / limit_gflops */
    double floor_ms;           /* median of the algorithm's bare BLAS calls */
    double floor_ratio;        /* median / floor_ms */
    int derived;               /* 1: median is a difference of two measured
                                  medians (backward − backward_data), not a
                                  measurement; time.n = 0, no quartiles */
    double memory_bytes;       /* bptt: bptt_workspace_size(T, B); RTRL:
                                  bptt_rtrl_size(B); peers: NaN */
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

/* The limits of one precision: the best measured in the run so far. */
typedef struct bench_limits {
    const char *precision;
    size_t gemm_n;             /* GEMM of gemm_n x gemm_n x gemm_n */
    double gemm_gflops;
    size_t gemv_rows, gemv_cols;
    double gemv_gbs;           /* matrix bytes read per second, 1e9 */
    double gemv_gflops;        /* the same GEMV in GFLOP/s: the B = 1 limit */
} bench_limits;

/* Where and how the figures were made. */
typedef struct bench_env {
    char cpu[256];             /* /proc/cpuinfo "model name" */
    long ncpu;                 /* processors online */
    char blas_vendor[64], blas_config[256], blas_core[64];
    int blas_threads;
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

/* The whole JSON document: {"environment", "limits", "records",
 * "refused", "notes"}.  Returns 0, or -1 if the stream reports an
 * error. */
int bench_json_write(FILE *f, const bench_env *env, const bench_limits *lim,
                     size_t nlim, const bench_record *rec, size_t n,
                     const bench_refusal *ref, size_t nref,
                     const bench_refusal *note, size_t nnote);

/* The readable table: the environment, the limits (one line per
 * precision), then per case. */
void bench_table_env(FILE *f, const bench_env *env);
void bench_table_limits(FILE *f, const bench_limits *lim, size_t nlim);
/* The n records of one case (same precision, shape and activations), a
 * heading with what BPTT_ALGO_AUTO resolves to and the default's speedup,
 * one line per record, and a footnote under a derived time. */
void bench_table_case(FILE *f, const bench_record *rec, size_t n);

/* The ratios under a case's table, for the case's records all[first..n-1]
 * (earlier records are searched for the all-tanh twin of a mixed case):
 *   - each peer's backward and forward_backward median over bptt's
 *     default's (> 1: the peer is slower);
 *   - a mixed-activation case's default forward and backward over those
 *     of the all-tanh case of the same precision and shape;
 *   - RTRL: each algorithm's sequence over the default's forward_backward
 *     (the cost ratio) and its memory over BPTT's workspace; rtrl-gemm as
 *     a fraction of the GEMM limit.
 * Nothing for a case that has none of these. */
void bench_table_ratios(FILE *f, const bench_record *all, size_t first,
                        size_t n);

#endif
