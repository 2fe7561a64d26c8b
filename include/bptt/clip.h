/*
 * bptt/clip.h — global-norm gradient clipping (Pascanu, Mikolov & Bengio
 * 2013), the usual remedy for an exploding error flow (bptt/flow.h), and
 * the SGD step of eq. (13) taken with the clipped gradient.
 * Include <bptt.h> rather than this file.
 *
 * A gradient is given as a list of blocks — typically ∂L/∂W and ∂L/∂b —
 * and clipped as one vector: with ‖g‖ = sqrt(Σ_i ‖G_i‖_F²),
 *
 *     g ← (max_norm / ‖g‖) · g    if ‖g‖ > max_norm,   unchanged otherwise.
 *
 * Norms are computed in double in both precisions and without overflow
 * where the result is representable.  Every function exists in double
 * (bptt_, bptt_block) and float (bpttf_, bpttf_block).
 */
#ifndef BPTT_CLIP_H
#define BPTT_CLIP_H

#include "bptt/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A rows x cols block of a caller's row-major matrix: element (i, j) is
 * a[i·ld + j], ld >= cols.  For Network A: {dout, din+dout, dW, lddw} and
 * {1, dout, db, dout}. */
typedef struct bptt_block {
    size_t rows, cols;
    double *a;
    size_t ld;
} bptt_block;

typedef struct bpttf_block {
    size_t rows, cols;
    float *a;
    size_t ld;
} bpttf_block;

/* Clip the gradient made of the nblocks blocks g[0..nblocks-1] to global
 * norm max_norm, in place.  The factor max_norm/‖g‖ is computed once in
 * double and every entry is multiplied by it and rounded (if the factor is
 * subnormal, ‖g‖/max_norm > 2^1022, every entry is divided by ‖g‖ and
 * multiplied by max_norm instead), so the clipped gradient's norm is
 * max_norm to rounding; a gradient with ‖g‖ <= max_norm
 * is not written at all (bitwise unchanged).  max_norm = +inf measures
 * without clipping.
 *
 * norm   if not NULL, receives ‖g‖ before clipping.
 * norms  if not NULL, nblocks doubles: norms[i] = ‖G_i‖_F before clipping,
 *        found on the way.
 *
 * Errors: BPTT_ENULL (g, or a block's a), BPTT_ESIZE (nblocks 0, a block
 * with 0 rows or cols), BPTT_ELD (a block's ld < cols), BPTT_EOVERFLOW
 * (ld > INT_MAX or the extent overflows), BPTT_EINVAL (max_norm NaN or
 * <= 0), BPTT_ENONFINITE (an entry is NaN or infinite, or ‖g‖ or a block's
 * norm exceeds the largest double, as after an explosion: nothing is scaled,
 * the detail names the block or the global norm), BPTT_EOVERLAP (two
 * blocks share an element — a block listed twice would count twice in
 * ‖g‖ — or norm or norms overlaps a block or the other; the detail names
 * both; checked pairwise, O(nblocks²)).  On error nothing is written
 * (blocks, norm, norms). */
BPTT_API bptt_status bptt_clip_global_norm(size_t nblocks,
                                           const bptt_block *g,
                                           double max_norm, double *norm,
                                           double *norms);

/* One step of eq. (13) with the clipped gradient, block by block:
 *
 *     W_i ← W_i − alpha · c · dW_i,   c = min(1, max_norm / ‖dW‖),
 *
 * rounded exactly as bptt_clip_global_norm followed by bptt_sgd_step on
 * each block would round it, but dW is not written.  W[i] must have the
 * shape of dW[i] and not overlap any block of dW.  norm and norms as in
 * bptt_clip_global_norm.
 *
 * A non-finite gradient (a NaN or an infinity in dW, or a norm beyond the
 * largest double, e.g. after an explosion) is refused with BPTT_ENONFINITE
 * and leaves W untouched, so one bad batch cannot poison the weights.
 *
 * Errors: those of bptt_clip_global_norm (for dW and for W), BPTT_EINVAL
 * (alpha not finite, or W[i] shaped unlike dW[i]), BPTT_EOVERLAP (two
 * blocks of W sharing an element, a block of W overlapping one of dW, or
 * norm or norms overlapping a block).  Blocks of dW may overlap each
 * other (they are only read, though a block listed twice counts twice).
 * On error nothing is written. */
BPTT_API bptt_status bptt_sgd_step_clipped(size_t nblocks, double alpha,
                                           const bptt_block *dW,
                                           double max_norm,
                                           const bptt_block *W, double *norm,
                                           double *norms);

/* Single precision: the same functions with float blocks. */
BPTT_API bptt_status bpttf_clip_global_norm(size_t nblocks,
                                            const bpttf_block *g,
                                            double max_norm, double *norm,
                                            double *norms);
BPTT_API bptt_status bpttf_sgd_step_clipped(size_t nblocks, float alpha,
                                            const bpttf_block *dW,
                                            double max_norm,
                                            const bpttf_block *W,
                                            double *norm, double *norms);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_CLIP_H */
