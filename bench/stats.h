/*
 * stats.h — the harness's arithmetic: order statistics of a set of timings
 * and the flop counts of the performance model (docs/algorithms.md).
 * Precision-independent, no I/O.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>

/* Five-number summary of n samples (ms). */
typedef struct bench_summary {
    size_t n;
    double min, q1, median, q3, max;
} bench_summary;

/* The p-quantile (0 <= p <= 1) of n >= 1 sorted values, by linear
 * interpolation between order statistics: h = (n-1)·p, then
 * x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]) (R's type 7, numpy's default).
 * The median is the 0.5-quantile.  NaN for n = 0. */
double bench_quantile(const double *sorted, size_t n, double p);

/* Sort samples in place (ascending) and summarise them; all fields NaN and
 * n = 0 for n = 0. */
bench_summary bench_summarize(double *samples, size_t n);

/* Flops of one pass over T steps of B sequences, n = dout, m = din + dout
 * (docs/algorithms.md, "The performance model"):
 *   forward   2·B·n·m per step (z = W s);
 *   backward  2·B·n·n (Wyᵀδ, eq. 7) + 2·B·n·m (δ sᵀ, eq. 12) per step,
 *             plus 2·B·n·din (Wxᵀδ) when ∂L/∂x is computed. */
double bench_flops_forward(size_t din, size_t dout, size_t T, size_t B);
double bench_flops_backward(size_t din, size_t dout, size_t T, size_t B,
                            int with_dx);

/* Flops of RTRL (bptt/rtrl.h) over T steps of B sequences, n = dout,
 * m = din + dout, P having n·(m+1) columns (the bias columns are carried
 * whether there is a bias or not):
 *   per step and sequence 2·n·m (forward, z = W s), 2·n·n(m+1) (eq. 11,
 *   P's columns times e ⊙ f') and 2·n·n·n(m+1) (eq. 10, Wy·diag(f')·P),
 * except that the first step after a reset sets P by eq. (9) without the
 * GEMM: first = 1 when the T steps start a sequence. */
double bench_flops_rtrl(size_t din, size_t dout, size_t T, size_t B,
                        int first);

#endif
