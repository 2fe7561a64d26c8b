/*
 * limits.c — the GEMM limit through the same BLAS, measured in the same
 * run as the cases: GFLOP/s, the roof of every flop a pass does.  (The
 * other roof, the read bandwidth that bounds a recurrence's steps, is
 * bandwidth.c's.)  Compiled once per precision.
 */
#include <math.h>
#include <stdlib.h>

#include "problem.h"
#include "stats.h"
#include "timing.h"

enum { MAX_SAMPLES = 10000 };

typedef struct blas_op {
    size_t rows, cols;  /* GEMM: rows x rows x rows */
    R *A, *B, *C;
} blas_op;

static int call_gemm(void *ctx)
{
    blas_op *o = ctx;
    const int n = (int)o->rows;
    CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, o->A, n,
                o->B, n, 0, o->C, n);
    return 0;
}

/* The best time (ms) of call over budget_ms on operands of na, nb, nc
 * elements, or NaN when memory runs out.  The best, not the median: a limit
 * is what the machine can do, and other load only ever slows a call. */
static double best_ms(bench_call call, blas_op *o, size_t na, size_t nb,
                        size_t nc, double budget_ms)
{
    double best = NAN;
    double *samples = malloc(MAX_SAMPLES * sizeof *samples);
    o->A = malloc(na * sizeof(R));
    o->B = malloc(nb * sizeof(R));
    o->C = malloc(nc * sizeof(R));
    if (samples && o->A && o->B && o->C) {
        for (size_t i = 0; i < na; i++)
            o->A[i] = (R)(1.0 / (double)(1 + i % 7));
        for (size_t i = 0; i < nb; i++)
            o->B[i] = (R)(1.0 / (double)(1 + i % 5));
        size_t n = 0;
        bench_repeat(call, o, 1, budget_ms, samples, MAX_SAMPLES, &n);
        best = bench_summarize(samples, n).min;
    }
    free(samples);
    free(o->A);
    free(o->B);
    free(o->C);
    return best;
}

double BX(gemm_gflops)(size_t n, double budget_ms)
{
    blas_op o = {n, n, NULL, NULL, NULL};
    const double ms = best_ms(call_gemm, &o, n * n, n * n, n * n, budget_ms);
    return 2.0 * (double)n * (double)n * (double)n / (ms * 1e6);
}
