/*
 * stats.c — order statistics of timings and the flop counts of the
 * performance model (docs/algorithms.md).
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

double bench_quantile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    const double h = (double)(n - 1) * p;
    const size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_summary bench_summarize(double *samples, size_t n)
{
    bench_summary s = {0, NAN, NAN, NAN, NAN, NAN};
    if (n == 0)
        return s;
    qsort(samples, n, sizeof *samples, cmp_double);
    s.n = n;
    s.min = samples[0];
    s.q1 = bench_quantile(samples, n, 0.25);
    s.median = bench_quantile(samples, n, 0.5);
    s.q3 = bench_quantile(samples, n, 0.75);
    s.max = samples[n - 1];
    return s;
}

/* Counts in double: the products overflow no integer type this way and a
 * flop count needs no more than double's 53 bits of precision. */
double bench_flops_forward(size_t din, size_t dout, size_t T, size_t B)
{
    const double n = (double)dout, m = (double)din + (double)dout;
    return (double)T * 2 * (double)B * n * m;
}

double bench_flops_backward(size_t din, size_t dout, size_t T, size_t B,
                            int with_dx)
{
    const double n = (double)dout, m = (double)din + (double)dout;
    double per_step = 2 * (double)B * n * n + 2 * (double)B * n * m;
    if (with_dx)
        per_step += 2 * (double)B * n * (double)din;
    return (double)T * per_step;
}

double bench_flops_rtrl(size_t din, size_t dout, size_t T, size_t B, int first)
{
    const double n = (double)dout, m = (double)din + (double)dout;
    const double cols = n * (m + 1);
    const double steps = (double)T * (double)B;
    const double gemms = ((double)T - (first ? 1 : 0)) * (double)B;
    return steps * (2 * n * m + 2 * n * cols) + gemms * 2 * n * n * cols;
}
