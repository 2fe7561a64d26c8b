/*
 * cells/gated/gates.c — the gates' activations over contiguous runs of
 * units, in place: the logistic function on i, f, o (LSTM) and r, z (GRU),
 * tanh on g, c and n (docs/gated.md (G2), (G3), (G5), (G11)-(G13)).  The
 * loops are branch-free so that gcc vectorizes them with glibc's libmvec,
 * as Network A's activation.c does: five scalar transcendental calls per
 * unit and step otherwise dominate the LSTM's forward at B >= 32.
 * Also the biases' gradients, column sums of the deltas (G20).
 */
#include <math.h>

#include "cells/gated/gated.h"

#if defined(BPTT_HAVE_LIBMVEC) && defined(__GNUC__) && !defined(__clang__)
#define BPTT_SIMD __attribute__((simd("notinbranch")))
BPTT_SIMD double tanh(double);
BPTT_SIMD float tanhf(float);
BPTT_SIMD double exp(double);
BPTT_SIMD float expf(float);
#endif

#ifdef BPTT_SINGLE
#define TANH tanhf
#define EXP expf
#define FABS fabsf
#else
#define TANH tanh
#define EXP exp
#define FABS fabs
#endif

void XI(gate_sigm)(size_t k, R *restrict a)
{
    /* 1/(1+e) or e/(1+e) with e = e^-|z|: no overflow, a select */
    for (size_t j = 0; j < k; j++) {
        const R z = a[j], e = EXP(-FABS(z)), r = 1 / (1 + e), er = e * r;
        a[j] = z >= 0 ? r : er;
    }
}

void XI(gate_tanh)(size_t k, const R *restrict a, R *restrict out)
{
    for (size_t j = 0; j < k; j++)
        out[j] = TANH(a[j]);
}

/* The sums of XI(gated_bias_sums) after the scaling, one pass over D's
 * rows in order: restrict pointers and a row at a time so that the
 * compiler vectorizes the columns (a whole row at a time, so that D is
 * read as one stream); each column's sum is the same chain in order of k. */
static void sums(size_t rows, size_t c0, size_t c1, const R *restrict D,
                 size_t ldd, R *restrict db0, R *restrict db1)
{
    const size_t both = db0 && db1 ? (c0 < c1 ? c0 : c1) : 0;
    const size_t e0 = db0 ? c0 : 0, e1 = db1 ? c1 : 0;
    for (size_t k = 0; k < rows; k++) {
        const R *restrict d = D + k * ldd;
        for (size_t r = 0; r < both; r++) {
            db0[r] += d[r];
            db1[r] += d[r];
        }
        for (size_t r = both; r < e0; r++)
            db0[r] += d[r];
        for (size_t r = both; r < e1; r++)
            db1[r] += d[r];
    }
}

void XI(gated_bias_sums)(size_t rows, size_t c0, size_t c1, const R *D,
                         size_t ldd, R beta, R *db0, R *db1)
{
    if (db0)
        XI(scale)(1, c0, beta, db0, c0);
    if (db1)
        XI(scale)(1, c1, beta, db1, c1);
    if (db0 || db1)
        sums(rows, c0, c1, D, ldd, db0, db1);
}
