/*
 * spectral.c — the LAPACKE diagnostics of the recurrent matrix: the
 * spectral radius ρ(Wy) (?geev) and the spectral norm ‖Wy‖₂ (?gesdd), the
 * two numbers that bound how fast the error of eq. (7) can vanish or
 * explode (Hochreiter & Schmidhuber 1997, §3.1.1).
 *
 * Both call LAPACK in column-major order on the caller's row-major data,
 * i.e. on Aᵀ: Aᵀ has the eigenvalues and singular values of A, and LAPACKE
 * then needs no transposed copy.  Both overwrite their input, so they work
 * on a copy allocated here (these are one-off diagnostics, not a hot path).
 */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cells/vanilla/core.h"

/* Shape checks shared by both diagnostics; LAPACK takes int sizes. */
static bptt_status check_input(const char *fn, size_t rows, size_t cols,
                               const R *A, size_t lda, const double *out,
                               const char *outname)
{
    if (!out)
        return bptt__fail(BPTT_ENULL, fn, "%s is NULL", outname);
    if (rows == 0 || cols == 0)
        return bptt__fail(BPTT_ESIZE, fn, "the matrix is %zu x %zu", rows,
                          cols);
    bptt_status st = XI(check_arg)(fn, "A", A, 1, rows, cols, lda);
    if (st != BPTT_OK)
        return st;
    int ok = 1;
    bptt__mul(bptt__mul(rows, cols, &ok), sizeof(R), &ok);
    if (!ok || rows > BPTT_INT_MAX)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "a %zu x %zu matrix exceeds LAPACK's int", rows, cols);
    const bptt__region ro = {outname, out, 1, 1, 1, sizeof(double)};
    const bptt__region ri = RREG("A", A, rows, cols, lda);
    CHECK(bptt__check_overlap(fn, &ro, 1, &ri, 1));
    /* LAPACK does not converge on NaN or Inf; say which value instead. */
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            if (!isfinite(A[i * lda + j]))
                return bptt__fail(BPTT_ENONFINITE, fn,
                                  "A[%zu][%zu] is NaN or infinite", i, j);
    return BPTT_OK;
}

/* A dense copy of A (ld cols) times 2^−e, e the binary exponent of A's
 * largest entry, to be destroyed by LAPACK.  The scaling is exact (but for
 * entries that become subnormal, negligible next to the largest) and the
 * caller scales the result back by 2^e in double: LAPACK in R would
 * overflow on an eigenvalue or singular value above R's largest value,
 * which a float matrix's may be while the double result holds it. */
static R *copy_dense(size_t rows, size_t cols, const R *A, size_t lda, int *e)
{
    double amax = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            amax = fmax(amax, fabs((double)A[i * lda + j]));
    *e = 0;
    if (amax > 0)
        frexp(amax, e);
    R *c = malloc(rows * cols * sizeof(R));
    if (c)
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++)
                c[i * cols + j] = (R)ldexp((double)A[i * lda + j], -*e);
    return c;
}

/* The status of a LAPACKE return value: its own allocation failures are
 * BPTT_ENOMEM, any other non-zero info BPTT_ELAPACK with info in the
 * detail. */
static bptt_status lapack_status(const char *fn, const char *routine,
                                 lapack_int info)
{
    if (info == 0)
        return BPTT_OK;
    if (info == LAPACK_WORK_MEMORY_ERROR ||
        info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return bptt__fail(BPTT_ENOMEM, fn, "%s: out of memory", routine);
    return bptt__fail(BPTT_ELAPACK, fn, "%s returned info = %d", routine,
                      (int)info);
}

#ifdef BPTT_SINGLE
#define NAME_GEEV "LAPACKE_sgeev"
#define NAME_GESDD "LAPACKE_sgesdd"
#else
#define NAME_GEEV "LAPACKE_dgeev"
#define NAME_GESDD "LAPACKE_dgesdd"
#endif

bptt_status XI(spectral_radius)(const char *fn, size_t n, const R *A,
                                size_t lda, double *radius)
{
    bptt_status st = check_input(fn, n, n, A, lda, radius, "radius");
    if (st != BPTT_OK)
        return st;
    int e = 0;
    R *a = copy_dense(n, n, A, lda, &e);
    R *w = malloc(2 * n * sizeof(R));
    if (!a || !w) {
        free(a);
        free(w);
        return bptt__fail(BPTT_ENOMEM, fn, "copying a %zu x %zu matrix", n, n);
    }
    R *wr = w, *wi = w + n;
    const lapack_int in = (lapack_int)n;
    /* Eigenvalues only ('N', 'N'): no eigenvectors are needed for ρ. */
    lapack_int info = LAPACKE(geev)(LAPACK_COL_MAJOR, 'N', 'N', in, a, in, wr,
                                    wi, NULL, 1, NULL, 1);
    double rho = 0;
    for (size_t i = 0; info == 0 && i < n; i++) {
        double m = hypot((double)wr[i], (double)wi[i]);
        if (m > rho)
            rho = m;
    }
    free(a);
    free(w);
    st = lapack_status(fn, NAME_GEEV, info);
    if (st == BPTT_OK)
        *radius = ldexp(rho, e);
    return st;
}

bptt_status X(spectral_radius)(size_t n, const R *A, size_t lda, double *radius)
{
    return XI(spectral_radius)(PREFIX "spectral_radius", n, A, lda, radius);
}

bptt_status X(spectral_norm)(size_t rows, size_t cols, const R *A, size_t lda,
                             double *norm)
{
    static const char fn[] = PREFIX "spectral_norm";
    bptt_status st = check_input(fn, rows, cols, A, lda, norm, "norm");
    if (st != BPTT_OK)
        return st;
    const size_t k = rows < cols ? rows : cols;
    int e = 0;
    R *a = copy_dense(rows, cols, A, lda, &e);
    R *s = malloc(k * sizeof(R));
    if (!a || !s) {
        free(a);
        free(s);
        return bptt__fail(BPTT_ENOMEM, fn, "copying a %zu x %zu matrix", rows,
                          cols);
    }
    /* Aᵀ in column-major is cols x rows with ld cols; singular values only
     * (jobz 'N'), returned in decreasing order. */
    lapack_int info = LAPACKE(gesdd)(LAPACK_COL_MAJOR, 'N', (lapack_int)cols,
                                     (lapack_int)rows, a, (lapack_int)cols, s,
                                     NULL, 1, NULL, 1);
    double sigma = info == 0 ? (double)s[0] : 0;
    free(a);
    free(s);
    st = lapack_status(fn, NAME_GESDD, info);
    if (st == BPTT_OK)
        *norm = ldexp(sigma, e);
    return st;
}
