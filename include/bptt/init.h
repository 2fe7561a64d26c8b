/*
 * bptt/init.h — initial weights, written into the caller's matrices:
 * scaled uniform or Gaussian draws (Glorot), orthogonal matrices (QR), and
 * the rescaling of the recurrent matrix Wy to a chosen spectral radius.
 * Include <bptt.h> rather than this file.
 *
 * Why the radius matters: backward sends the error through
 * Wyᵀ diag(f'(z)) once per step (eq. (7)), so it shrinks or grows roughly
 * like (ρ(Wy)·|f'|)^τ over a lag τ (Hochreiter & Schmidhuber 1997,
 * §3.1.1).  bptt/flow.h measures both.
 *
 * For Network A's W (dout x (din+dout), ld ldw) the blocks are
 *     Wx = W       (dout x din)     and    Wy = W + din   (dout x dout),
 * both with leading dimension ldw; every function here takes any rows x
 * cols block with its leading dimension, so it can fill either or all of W.
 *
 * Determinism: random draws come from the library's own generator
 * (SplitMix64 with Marsaglia's polar method for normals), never from
 * rand(), and fill the block row by row: the same seed gives the same
 * matrix whatever the leading dimension, in every program; two blocks drawn
 * with the same seed are equal, so give each block its own seed.  Draws are
 * made in double and rounded, so the float functions give the rounding of
 * the double ones (except init_orthogonal, whose QR runs in float).
 *
 * Every function exists in double (bptt_) and float (bpttf_) precision;
 * scalars that are parameters (sigma, gain, radius) are double in both.
 * On error nothing is written.
 */
#ifndef BPTT_INIT_H
#define BPTT_INIT_H

#include <stdint.h>

#include "bptt/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The distribution of random initial weights. */
typedef enum bptt_dist {
    BPTT_DIST_UNIFORM = 0, /* uniform on [−√3·σ, √3·σ) (standard deviation σ) */
    BPTT_DIST_GAUSSIAN,    /* normal N(0, σ²)                                  */
    BPTT_NDIST             /* number of codes; not a distribution              */
} bptt_dist;

/* Fill the rows x cols block W (leading dimension ldw) with independent
 * draws of mean 0 and standard deviation sigma from dist, seeded by seed.
 *
 * Every entry is finite: a sigma whose largest possible draw would exceed
 * the largest double (float for bpttf_) is refused — above DBL_MAX/1.7321
 * for the uniform draw (±√3·σ), above DBL_MAX/12.1 for the Gaussian one
 * (the polar method's draws stay within 12.01·σ).
 *
 * Errors: BPTT_ENULL (W), BPTT_ESIZE (rows or cols 0), BPTT_ELD (ldw <
 * cols), BPTT_EOVERFLOW (ldw > INT_MAX or the extent overflows, or sigma
 * above the bound just stated), BPTT_EINVAL (dist unknown, sigma negative
 * or not finite). */
BPTT_API bptt_status bptt_init_random(size_t rows, size_t cols,
                                      bptt_dist dist, double sigma,
                                      uint64_t seed, double *W, size_t ldw);

/* Glorot & Bengio (2010) initialisation: bptt_init_random with
 *
 *     sigma = gain · sqrt(2 / (fan_in + fan_out)),  fan_in = cols,
 *                                                   fan_out = rows,
 *
 * i.e. uniform on ±gain·sqrt(6/(rows+cols)) or N(0, 2·gain²/(rows+cols)).
 * For Network A's whole W, rows = dout and cols = din+dout.  gain = 1 is
 * the paper's choice.
 *
 * Errors: those of bptt_init_random; BPTT_EINVAL also for a gain negative
 * or not finite. */
BPTT_API bptt_status bptt_init_glorot(size_t rows, size_t cols,
                                      bptt_dist dist, double gain,
                                      uint64_t seed, double *W, size_t ldw);

/* A random orthogonal block, times gain: the Q factor of the QR
 * factorisation (LAPACK ?geqrf + ?orgqr) of a Gaussian matrix, with the
 * signs of R's diagonal moved into Q so that Q is uniformly (Haar)
 * distributed (Mezzadri 2007).  For a square block W, WᵀW = WWᵀ = gain²·I,
 * so ρ(W) = ‖W‖₂ = gain and the linear error flow neither vanishes nor
 * explodes; for rows > cols the columns are orthonormal (WᵀW = gain²·I),
 * for rows < cols the rows (WWᵀ = gain²·I).  Typical: Wy = W + din,
 * rows = cols = dout.
 *
 * Memory: allocates max(rows,cols)·min(rows,cols) + 2·min(rows,cols)
 * elements for the duration of the call (not a hot path).
 *
 * Errors: those of bptt_init_random (but no dist), BPTT_EINVAL (gain
 * negative or not finite), BPTT_EOVERFLOW (a size above LAPACK's int),
 * BPTT_ENOMEM, BPTT_ELAPACK (geqrf or orgqr failed; the detail names the
 * routine and its info). */
BPTT_API bptt_status bptt_init_orthogonal(size_t rows, size_t cols,
                                          double gain, uint64_t seed,
                                          double *W, size_t ldw);

/* Scale the n x n matrix Wy (leading dimension ldw; Wy = W + din for
 * Network A) so that its spectral radius becomes radius:
 *
 *     Wy ← (radius / ρ(Wy)) · Wy,
 *
 * ρ computed as by bptt_spectral_radius (LAPACK ?geev).  When radius/ρ
 * itself overflows or underflows (Wy = {1e-310} to radius 1), each entry is
 * computed as (Wy_ij / ρ)·radius instead: only a result that does not fit
 * is refused.  before, if not NULL, receives ρ(Wy) before the scaling.
 *
 * Memory: as bptt_spectral_radius.
 *
 * Errors: those of bptt_spectral_radius (BPTT_ENULL, BPTT_ESIZE, BPTT_ELD,
 * BPTT_EOVERFLOW, BPTT_ENONFINITE for a NaN or Inf in Wy, BPTT_ENOMEM,
 * BPTT_ELAPACK), BPTT_EINVAL (radius negative or not finite, or ρ(Wy) = 0
 * so that no scaling reaches it), BPTT_EOVERFLOW (ρ(Wy) exceeds the
 * largest double, or an entry would overflow). */
BPTT_API bptt_status bptt_init_rescale_radius(size_t n, double radius,
                                              double *Wy, size_t ldw,
                                              double *before);

/* Single precision: the same functions with float matrices. */
BPTT_API bptt_status bpttf_init_random(size_t rows, size_t cols,
                                       bptt_dist dist, double sigma,
                                       uint64_t seed, float *W, size_t ldw);
BPTT_API bptt_status bpttf_init_glorot(size_t rows, size_t cols,
                                       bptt_dist dist, double gain,
                                       uint64_t seed, float *W, size_t ldw);
BPTT_API bptt_status bpttf_init_orthogonal(size_t rows, size_t cols,
                                           double gain, uint64_t seed,
                                           float *W, size_t ldw);
BPTT_API bptt_status bpttf_init_rescale_radius(size_t n, double radius,
                                               float *Wy, size_t ldw,
                                               double *before);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_INIT_H */
