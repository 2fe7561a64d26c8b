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

void XI(gated_bias_sums)(size_t rows, size_t cols, const R *D, size_t ldd,
                         R beta, R *db0, R *db1)
{
    if (db0)
        XI(scale)(1, cols, beta, db0, cols);
    if (db1)
        XI(scale)(1, cols, beta, db1, cols);
    R *db = db0 ? db0 : db1;
    if (db0 && db1) /* one pass over D for both */
        for (size_t k = 0; k < rows; k++)
            for (size_t r = 0; r < cols; r++) {
                const R d = D[k * ldd + r];
                db0[r] += d;
                db1[r] += d;
            }
    else if (db)
        for (size_t k = 0; k < rows; k++)
            for (size_t r = 0; r < cols; r++)
                db[r] += D[k * ldd + r];
}
