/*
 * bptt/flow.h — gradient-flow diagnostics: the spectral radius and the
 * spectral norm of the recurrent matrix (LAPACKE), and the error-flow
 * profile ‖∂L/∂y(t)‖ recorded by backward.  Include <bptt.h> rather than
 * this file.
 *
 * Backward sends the error from step t to step t−1 as (eqs. (3)+(7))
 *
 *     g(t−1) = ∂L(t−1)/∂y(t−1) + Wyᵀ (g(t) ⊙ f'(z(t))),   g(t) = ∂L/∂y(t),
 *
 * so the error of a loss at step T alone is multiplied by τ factors
 * Wyᵀ diag(f') on its way back to step T−τ, and
 *
 *     ‖∂L(T)/∂y(T−τ)‖ ≤ (‖Wy‖₂ · max|f'|)^τ · ‖∂L(T)/∂y(T)‖,
 *
 * while for long lags it behaves like (ρ(Wy)·|f'|)^τ: it vanishes or
 * explodes exponentially with the lag (Hochreiter & Schmidhuber 1997,
 * §3.1.1).  max|f'| is 1 for tanh and 1/4 for the logistic function.
 * examples/flow.c (bptt-flow) plots the measured profile against these
 * bounds.
 *
 * Every function exists in double (bptt_) and float (bpttf_) precision;
 * norms and radii are returned in double in both.
 */
#ifndef BPTT_FLOW_H
#define BPTT_FLOW_H

#include "bptt/common.h"
#include "bptt/network.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Spectral diagnostics (LAPACKE)                                            */
/* ------------------------------------------------------------------------ */

/* Spectral radius ρ(A) = max_i |λ_i(A)| of the n x n matrix A (leading
 * dimension lda), from its eigenvalues by LAPACK ?geev (no eigenvectors).
 * For Network A's recurrent matrix pass A = W + din, lda = ldw, n = dout.
 *
 * Accuracy: that of the eigenvalues, about n·ε·‖A‖ for a normal A; for a
 * defective A (a Jordan block) an eigenvalue moves by up to (ε‖A‖)^(1/k)
 * for a block of size k, and so may ρ.
 *
 * Memory: allocates an n x n copy (?geev destroys its input) and 2n
 * elements, and LAPACKE allocates ?geev's work array; for one-off
 * diagnostics, not a hot loop.
 *
 * Errors: BPTT_ENULL (A or radius), BPTT_ESIZE (n is 0), BPTT_ELD (lda <
 * n), BPTT_EOVERFLOW (n or lda above INT_MAX, or the extent overflows),
 * BPTT_ENONFINITE (an entry is NaN or infinite; the detail says which),
 * BPTT_ENOMEM, BPTT_ELAPACK (?geev did not converge; info in the detail).
 * On error *radius is not written. */
BPTT_API bptt_status bptt_spectral_radius(size_t n, const double *A,
                                          size_t lda, double *radius);

/* Spectral norm ‖A‖₂ = σ_max(A), the largest singular value of the
 * rows x cols matrix A (leading dimension lda), by LAPACK ?gesdd (singular
 * values only).  ρ(A) ≤ ‖A‖₂, with equality for a normal A (symmetric,
 * orthogonal).
 *
 * Memory: allocates a rows x cols copy and min(rows,cols) elements, and
 * LAPACKE allocates ?gesdd's work arrays.
 *
 * Errors: as bptt_spectral_radius (BPTT_ESIZE if rows or cols is 0,
 * BPTT_ELAPACK if ?gesdd did not converge). */
BPTT_API bptt_status bptt_spectral_norm(size_t rows, size_t cols,
                                        const double *A, size_t lda,
                                        double *norm);

/* ------------------------------------------------------------------------ */
/* The error-flow profile                                                    */
/* ------------------------------------------------------------------------ */

/* Ask every later bptt_backward on ws to record, for each step t = 1..T and
 * sequence b,
 *
 *     gnorm[(t−1)·B + b] = ‖∂L/∂y(t)‖₂ = ‖g(t)‖₂     (g of eqs. (3)+(7))
 *     dnorm[(t−1)·B + b] = ‖∂L/∂z(t)‖₂ = ‖δ(t)‖₂     (δ of eq. (5)/(8))
 *
 * where T and B are those of the backward call.  The norms are taken from
 * the vectors backward forms anyway, as they are formed: no extra BLAS
 * call and O(dout) flops per row, nothing when recording is off.  They are
 * computed in double without overflow (a NaN in g gives NaN, an infinity
 * +inf).  Either array may be NULL (not recorded); both NULL switch
 * recording off.  Each array, when given, must hold Tmax·Bmax doubles of
 * the workspace, stays owned by the caller and must outlive the recording.
 * Every algorithm records the same norms (to rounding).  The setting stays
 * until changed; a later forward does not clear it.
 *
 * Errors: BPTT_ENULL (ws). */
BPTT_API bptt_status bptt_workspace_record_flow(bptt_workspace *ws,
                                                double *gnorm, double *dnorm);

/* The profile of one loss at the last step against the lag τ: for the
 * forward kept in ws (T steps of B sequences), backward of a loss L(T) of
 * y(T) alone, with ∂L(T)/∂y(T) = dyT, giving
 *
 *     gnorm[τ·B + b] = ‖∂L(T)/∂y(T−τ)‖₂,   τ = 0..T−1, sequence b,
 *     dnorm[τ·B + b] = ‖∂L(T)/∂z(T−τ)‖₂    (if dnorm is not NULL).
 *
 * gnorm (required) and dnorm (optional) hold T·B doubles each.
 * dyT is B x dout (leading dimension lddyT), row b for sequence b; NULL
 * means the unit vector (1, ..., 1)/√dout for every sequence.  So
 * gnorm[0·B + b] = ‖dyT row b‖ and gnorm[τ·B + b] / gnorm[b] is how much of
 * the error survives τ steps back.  W must be the weights of the forward.
 *
 * It runs bptt_backward with the recorder on (BPTT_ALGO_AUTO) and the
 * non-finite check off (a NaN or Inf in W or dyT gives NaN or Inf norms);
 * the workspace's forward is kept (another backward may follow), its
 * backward scratch is overwritten, and the recording set by
 * bptt_workspace_record_flow and the check set by
 * bptt_workspace_check_finite are left as they were.
 *
 * Memory: allocates T·B·dout + dout·(din+dout) elements for the call (the
 * loss gradient and a discarded ∂L/∂W); a diagnostic, not a hot path.
 *
 * Errors: BPTT_ENULL (net, W, gnorm or ws), BPTT_ESIZE (T or B is 0),
 * BPTT_ELD (ldw, lddyT), BPTT_EOVERFLOW, BPTT_ECAPACITY (T or B above the
 * workspace's), BPTT_EMISMATCH (ws of another descriptor),
 * BPTT_ENOFORWARD (no forward of this T and B in ws), BPTT_ENOMEM.  On error
 * gnorm, dnorm and ws are not written. */
BPTT_API bptt_status bptt_flow_lag_profile(const bptt_net *net, size_t T,
                                           size_t B, const double *W,
                                           size_t ldw, const double *dyT,
                                           size_t lddyT, double *gnorm,
                                           double *dnorm, bptt_workspace *ws);

/* Single precision: the same functions with float matrices. */
BPTT_API bptt_status bpttf_spectral_radius(size_t n, const float *A,
                                           size_t lda, double *radius);
BPTT_API bptt_status bpttf_spectral_norm(size_t rows, size_t cols,
                                         const float *A, size_t lda,
                                         double *norm);
BPTT_API bptt_status bpttf_workspace_record_flow(bpttf_workspace *ws,
                                                 double *gnorm, double *dnorm);
BPTT_API bptt_status bpttf_flow_lag_profile(const bptt_net *net, size_t T,
                                            size_t B, const float *W,
                                            size_t ldw, const float *dyT,
                                            size_t lddyT, double *gnorm,
                                            double *dnorm,
                                            bpttf_workspace *ws);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_FLOW_H */
