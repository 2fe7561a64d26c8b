/*
 * init.c — initial weights written into the caller's matrices: scaled
 * uniform and Gaussian draws (Glorot & Bengio, 2010), orthogonal matrices
 * by QR (?geqrf + ?orgqr), and the rescaling of Wy to a chosen spectral
 * radius, the quantity that decides whether the error of eq. (7) vanishes
 * or explodes (Hochreiter & Schmidhuber 1997, §3.1.1).
 *
 * Random numbers come from the library's own generator (SplitMix64, Steele
 * et al. 2014, and Marsaglia's polar method), never rand(): a seed gives the
 * same matrix in every program.  Draws are made in double and rounded to R,
 * so bpttf_init_random gives the float rounding of bptt_init_random.
 */
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cells/vanilla/core.h"

#ifdef BPTT_SINGLE
#define R_MAX FLT_MAX
#else
#define R_MAX DBL_MAX
#endif

/* ------------------------------------------------------------------------ */
/* The generator                                                             */
/* ------------------------------------------------------------------------ */

typedef struct rng {
    uint64_t s;
    double spare; /* the polar method's second normal, if have_spare */
    int have_spare;
} rng;

static uint64_t splitmix64(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform on [-1, 1) with 53 random bits. */
static double uniform(rng *r)
{
    return (double)(splitmix64(r) >> 11) * 0x1p-52 - 1;
}

/* Standard normal, Marsaglia's polar method: needs only log and sqrt. */
static double gaussian(rng *r)
{
    if (r->have_spare) {
        r->have_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = uniform(r);
        v = uniform(r);
        s = u * u + v * v;
    } while (s >= 1 || s == 0);
    double f = sqrt(-2 * log(s) / s);
    r->spare = v * f;
    r->have_spare = 1;
    return u * f;
}

/* Bounds of |draw/σ|: √3 for the uniform draw (rounded up), and for the
 * polar method |u·f| <= sqrt(−2 ln s) <= sqrt(2·104·ln 2) = 12.008, s being
 * at least 2^−104 (u and v are multiples of 2^−52, s != 0). */
#define DRAW_BOUND_UNIFORM 1.7321
#define DRAW_BOUND_GAUSSIAN 12.1

static double draw(rng *r, bptt_dist dist, double sigma)
{
    /* Uniform on [-√3σ, √3σ) has standard deviation σ. */
    return dist == BPTT_DIST_UNIFORM ? sqrt(3.0) * sigma * uniform(r)
                                     : sigma * gaussian(r);
}

/* ------------------------------------------------------------------------ */
/* Random and Glorot                                                         */
/* ------------------------------------------------------------------------ */

static bptt_status check_block(const char *fn, size_t rows, size_t cols,
                               const R *W, size_t ldw)
{
    if (!W)
        return bptt__fail(BPTT_ENULL, fn, "W is NULL");
    if (rows == 0 || cols == 0)
        return bptt__fail(BPTT_ESIZE, fn, "rows (%zu) and cols (%zu) must be > 0",
                          rows, cols);
    return XI(check_arg)(fn, "W", W, 1, rows, cols, ldw);
}

static bptt_status random_fill(const char *fn, size_t rows, size_t cols,
                               bptt_dist dist, double sigma, uint64_t seed,
                               R *W, size_t ldw)
{
    bptt_status st = check_block(fn, rows, cols, W, ldw);
    if (st != BPTT_OK)
        return st;
    if ((unsigned)dist >= BPTT_NDIST)
        return bptt__fail(BPTT_EINVAL, fn, "dist = %d is not a distribution",
                          (int)dist);
    if (!(sigma >= 0 && sigma <= R_MAX))
        return bptt__fail(BPTT_EINVAL, fn,
                          "the standard deviation (%g) must be finite and >= 0",
                          sigma);
    /* Every draw must be finite in R, whatever the seed: refuse a σ whose
     * largest possible draw exceeds the largest R. */
    const double bound = dist == BPTT_DIST_UNIFORM ? DRAW_BOUND_UNIFORM
                                                   : DRAW_BOUND_GAUSSIAN;
    if (!(sigma <= R_MAX / bound))
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "the standard deviation (%g) exceeds %g: a %s draw "
                          "could overflow", sigma, R_MAX / bound,
                          dist == BPTT_DIST_UNIFORM ? "uniform" : "Gaussian");
    rng r = {.s = seed};
    /* Row by row whatever ldw is, so the padding does not change W. */
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            W[i * ldw + j] = (R)draw(&r, dist, sigma);
    return BPTT_OK;
}

bptt_status X(init_random)(size_t rows, size_t cols, bptt_dist dist,
                           double sigma, uint64_t seed, R *W, size_t ldw)
{
    return random_fill(PREFIX "init_random", rows, cols, dist, sigma, seed, W,
                       ldw);
}

bptt_status X(init_glorot)(size_t rows, size_t cols, bptt_dist dist,
                           double gain, uint64_t seed, R *W, size_t ldw)
{
    static const char fn[] = PREFIX "init_glorot";
    if (!(gain >= 0 && gain <= R_MAX))
        return bptt__fail(BPTT_EINVAL, fn, "gain (%g) must be finite and >= 0",
                          gain);
    /* Var = 2/(fan_in + fan_out), fan_in = cols, fan_out = rows: keeps the
     * variance of activations and of gradients alike across the layer.
     * The sum is taken in double, so it cannot overflow. */
    double sigma = gain * sqrt(2.0 / ((double)rows + (double)cols));
    return random_fill(fn, rows, cols, dist, sigma, seed, W, ldw);
}

/* ------------------------------------------------------------------------ */
/* Orthogonal                                                                */
/* ------------------------------------------------------------------------ */

#ifdef BPTT_SINGLE
#define NAME_GEQRF "LAPACKE_sgeqrf"
#define NAME_ORGQR "LAPACKE_sorgqr"
#else
#define NAME_GEQRF "LAPACKE_dgeqrf"
#define NAME_ORGQR "LAPACKE_dorgqr"
#endif

bptt_status X(init_orthogonal)(size_t rows, size_t cols, double gain,
                               uint64_t seed, R *W, size_t ldw)
{
    static const char fn[] = PREFIX "init_orthogonal";
    bptt_status st = check_block(fn, rows, cols, W, ldw);
    if (st != BPTT_OK)
        return st;
    if (!(gain >= 0 && gain <= R_MAX))
        return bptt__fail(BPTT_EINVAL, fn, "gain (%g) must be finite and >= 0",
                          gain);
    /* Q is p x q with orthonormal columns, p >= q; W is Q or Qᵀ. */
    const size_t p = rows > cols ? rows : cols, q = rows > cols ? cols : rows;
    int ok = 1;
    size_t bytes = bptt__mul(bptt__mul(p, q, &ok), sizeof(R), &ok);
    if (!ok || p > BPTT_INT_MAX)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "a %zu x %zu matrix exceeds LAPACK's int", rows, cols);
    R *Q = malloc(bytes);
    R *tau = malloc(q * sizeof(R));
    R *sign = malloc(q * sizeof(R));
    if (!Q || !tau || !sign) {
        free(Q);
        free(tau);
        free(sign);
        return bptt__fail(BPTT_ENOMEM, fn, "allocating %zu bytes", bytes);
    }
    /* A Gaussian matrix, column-major p x q (ld p), in generation order. */
    rng r = {.s = seed};
    for (size_t i = 0; i < p * q; i++)
        Q[i] = (R)gaussian(&r);
    const lapack_int ip = (lapack_int)p, iq = (lapack_int)q;
    const char *routine = NAME_GEQRF;
    lapack_int info = LAPACKE(geqrf)(LAPACK_COL_MAJOR, ip, iq, Q, ip, tau);
    if (info == 0) {
        /* Q·diag(sign R_jj) makes Q Haar-distributed (Mezzadri 2007): the
         * QR factor alone is biased by LAPACK's sign convention. */
        for (size_t j = 0; j < q; j++)
            sign[j] = Q[j + j * p] < 0 ? -1 : 1;
        routine = NAME_ORGQR;
        info = LAPACKE(orgqr)(LAPACK_COL_MAJOR, ip, iq, iq, Q, ip, tau);
    }
    if (info == 0) {
        const R g = (R)gain;
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++)
                /* column k of Q, row l: Q[l + k·p]; rows >= cols: W = Q */
                W[i * ldw + j] = rows >= cols ? g * sign[j] * Q[i + j * p]
                                              : g * sign[i] * Q[j + i * p];
    }
    free(Q);
    free(tau);
    free(sign);
    if (info == LAPACK_WORK_MEMORY_ERROR)
        return bptt__fail(BPTT_ENOMEM, fn, "%s: out of memory", routine);
    if (info != 0)
        return bptt__fail(BPTT_ELAPACK, fn, "%s returned info = %d", routine,
                          (int)info);
    return BPTT_OK;
}

/* ------------------------------------------------------------------------ */
/* Rescaling to a spectral radius                                            */
/* ------------------------------------------------------------------------ */

bptt_status X(init_rescale_radius)(size_t n, double radius, R *Wy, size_t ldw,
                                   double *before)
{
    static const char fn[] = PREFIX "init_rescale_radius";
    if (!(radius >= 0 && radius <= DBL_MAX))
        return bptt__fail(BPTT_EINVAL, fn,
                          "radius (%g) must be finite and >= 0", radius);
    double rho = 0;
    bptt_status st = XI(spectral_radius)(fn, n, Wy, ldw, &rho);
    if (st != BPTT_OK)
        return st;
    const bptt__region out[] = {RREG("Wy", Wy, n, n, ldw),
                                {"before", before, 1, 1, 1, sizeof(double)}};
    CHECK(bptt__check_overlap(fn, out, 2, NULL, 0));
    if (rho == 0)
        return bptt__fail(BPTT_EINVAL, fn,
                          "Wy is nilpotent (radius 0): no scaling reaches %g",
                          radius);
    /* radius/ρ would be 0 and wipe Wy out */
    if (isinf(rho))
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "ρ(Wy) exceeds the largest double");
    /* ρ(cA) = |c|ρ(A): one scaling reaches the target, to rounding.  When
     * c = radius/ρ itself overflows (ρ tiny: Wy = {1e-310}) or is
     * subnormal (ρ huge), each entry is taken as (a/ρ)·radius instead,
     * whose quotient is at most amax/ρ: no intermediate overflows unless
     * the result does. */
    const double c = radius / rho;
    const int direct = c >= DBL_MIN && c <= DBL_MAX;
    double amax = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            amax = fmax(amax, fabs((double)Wy[i * ldw + j]));
    const double top = direct ? c * amax : amax / rho * radius;
    if (!(top <= R_MAX))
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "ρ(Wy) = %g: scaling to radius %g overflows an "
                          "entry of Wy (largest %g)", rho, radius, amax);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const double a = Wy[i * ldw + j];
            Wy[i * ldw + j] = (R)(direct ? c * a : a / rho * radius);
        }
    if (before)
        *before = rho;
    return BPTT_OK;
}
