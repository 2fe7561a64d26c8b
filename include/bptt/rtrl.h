/*
 * bptt/rtrl.h — forward-mode gradients of Network A: real-time recurrent
 * learning (RTRL, Williams and Zipser 1989), eqs. (9)-(11)
 * of docs/derivation.md (§5, §7).
 * Include <bptt.h> rather than this file.
 *
 * Where BPTT keeps the whole sequence and runs backwards, RTRL carries the
 * sensitivities of z with respect to the parameters forward in time:
 *
 *     P(t)[l, k·m + j] = ∂z_l(t)/∂W_kj,   P(t)[l, n·m + k] = ∂z_l(t)/∂b_k
 *
 * (n = dout, m = din + dout), one n x n·(m+1) matrix per sequence, updated
 * at every step by
 *
 *     P(1)   = E(s(0))                                        eq. (9)
 *     P(t+1) = E(s(t)) + Wy·diag(f'(z(t)))·P(t)               eq. (10)
 *
 * where E(s) is zero but for row k, which holds s(t)ᵀ = [x(t); y(t)]ᵀ in
 * block k and 1 in bias column k (the bias is a column of W acting on a
 * constant 1, so it follows the same recursion).  With e(t+1) = ∂L/∂y(t+1)
 * of the loss of step t+1 alone, that loss's gradient is
 *
 *     ∂L(t+1)/∂W_kj = Σ_l e_l(t+1) f_l'(z_l(t+1)) P(t+1)[l, k·m + j]    eq. (11)
 *     ∂L(t+1)/∂b_k  = Σ_l e_l(t+1) f_l'(z_l(t+1)) P(t+1)[l, n·m + k]
 *
 * and summed over the steps (eq. (12)) it equals BPTT's gradient to
 * rounding.  Memory does not grow with T and each step's gradient is known
 * as soon as the step is taken: what online learning and unbounded streams
 * need.  The price is the work: per step and sequence
 *
 *     eq. (10)   2·n·n·n(m+1) flops   (one GEMM, n x n times n x n(m+1))
 *     eq. (11)   2·n·n(m+1) flops     (one GEMV over P)
 *     forward    2·n·m flops          (as bptt_forward)
 *
 * against about 2·n·m + 2·n·n + 2·n·m for a step of BPTT's forward and
 * backward: RTRL does about n²·(m+1)/(2m+n) times BPTT's flops per step
 * (at GEMM speed where BPTT runs at GEMV speed, so the time ratio is
 * smaller), and saves memory once T exceeds about n²·(m+1)/(m+2n) (see
 * bptt_rtrl_size and bptt_workspace_size).  bptt-bench measures both (its
 * rows rtrl-naive and rtrl-gemm).
 *
 * Usage.  Size and make a state once (bptt_rtrl_size, _alloc or _init);
 * per stream of B sequences call bptt_rtrl_reset (y(0), P = 0), then per
 * step either
 *
 *   - bptt_rtrl_step: advance one step with targets (squared error of eqs.
 *     (1)-(3), optional per-sequence mask), returning y(t+1), the step's
 *     loss and accumulating the step's gradient; or
 *   - bptt_rtrl_advance, then bptt_rtrl_accumulate with the caller's
 *     ∂L/∂y(t+1) of any loss (it may depend on y(t+1), which advance
 *     returns); accumulate may be called any number of times per advance.
 *
 * bptt_rtrl_sequence runs reset and T steps with targets in one call.
 *
 * Online learning.  W and b are arguments of every step, so the caller may
 * change them between steps — e.g. bptt_sgd_step after every step, as
 * Williams and Zipser do.  P then mixes sensitivities taken under
 * different weights: the gradient is the usual RTRL approximation, exact
 * only while W and b are held fixed (learning rate 0 gives exactly the
 * offline gradient).  The smaller the rate, the closer the approximation.
 *
 * Forward mode gives the parameter gradients only: there is no ∂L/∂x or
 * ∂L/∂y0 (use bptt_backward for those).
 *
 * Every function exists in double as bptt_rtrl_* and in single precision as
 * bpttf_rtrl_* with float and bpttf_rtrl; both are built from one source.
 * Shapes and conventions are those of bptt/network.h: W is dout x
 * (din+dout) with ldw, b has dout entries (NULL: no bias), rows are
 * time-major (row t*B + b is step t of sequence b), dW is shaped as W with
 * lddw, db as b.  As there, an output overlapping an input or another
 * output (loss included) is refused with BPTT_EOVERLAP; a state made for a
 * freed descriptor whose address net reuses with BPTT_EMISMATCH; and a
 * call on a state another call is using with BPTT_EBUSY — nothing written
 * in each case (docs/misuse.md).
 */
#ifndef BPTT_RTRL_H
#define BPTT_RTRL_H

#include "bptt/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque RTRL states, one type per precision. */
typedef struct bptt_rtrl bptt_rtrl;
typedef struct bpttf_rtrl bpttf_rtrl;

/* How the sensitivities are computed.  Both give the same result up to
 * rounding; the choice exists for testing and benchmarking.  A state may be
 * advanced with one and accumulated with the other. */
typedef enum bptt_rtrl_algo {
    BPTT_RTRL_AUTO = 0, /* the library's choice: currently BPTT_RTRL_GEMM   */
    BPTT_RTRL_NAIVE,    /* the element-wise sums of eqs. (9)-(11) as plain
                           loops, no BLAS: the reference and the baseline  */
    BPTT_RTRL_GEMM,     /* eq. (10) as one GEMM per step and sequence (in
                           column panels, in place) plus a row update for
                           E; eq. (11) as one GEMV over all sequences in
                           bptt_rtrl_accumulate, and fused into eq. (10)'s
                           panels in bptt_rtrl_step and _sequence, which
                           know e(t+1) before P is updated                 */
    BPTT_RTRL_NALGO     /* number of codes; not an algorithm */
} bptt_rtrl_algo;

/* The algorithm's name ("auto", "naive", "gemm"), or NULL. */
BPTT_API const char *bptt_rtrl_algo_name(bptt_rtrl_algo algo);

/* ------------------------------------------------------------------------ */
/* State                                                                     */
/* ------------------------------------------------------------------------ */

/* Bytes of an RTRL state for net and at most Bmax sequences.  A pure query;
 * there is no T: the memory does not depend on the length of the stream.
 * With n = dout, m = din + dout, r = sizeof(double) (sizeof(float) for
 * bpttf_), up(k) = k rounded up to a multiple of 64, a row pad p = 64/r
 * and the GEMM panel width c = min(n·(m+1), 64·max(1, floor(1024/n))):
 *
 *   bytes = 256 + up(r·Bmax·n·(n(m+1) + p))         the B matrices P
 *               + up(r·Bmax·m) + 4·up(r·Bmax·n)     s(t), f'(z), z, e⊙f', y
 *               + up(r·n·n) + up(r·n·(c + p))       Wy·diag(f'), a panel
 *               + up(r·c)                           eq. (11) on a panel
 *
 * Errors: BPTT_ENULL (net or bytes NULL), BPTT_ESIZE (Bmax is 0),
 * BPTT_EOVERFLOW (the count does not fit in size_t, or Bmax·n or
 * n·(m+1) + p exceeds INT_MAX, the largest BLAS dimension). */
BPTT_API bptt_status bptt_rtrl_size(const bptt_net *net, size_t Bmax,
                                    size_t *bytes);

/* Allocate a state of bptt_rtrl_size() bytes for net, which must outlive
 * it.  The state is not reset: call bptt_rtrl_reset before the first step.
 * One thread at a time may use it.  Free it with bptt_rtrl_free().
 *
 * Errors: those of bptt_rtrl_size, BPTT_ENULL (st NULL), BPTT_ENOMEM. */
BPTT_API bptt_status bptt_rtrl_alloc(const bptt_net *net, size_t Bmax,
                                     bptt_rtrl **st);

/* Make a state inside the caller's buffer buf of the given bytes (any
 * alignment; at least bptt_rtrl_size() bytes), which the caller keeps
 * owning and must not use otherwise while the state lives.
 *
 * Errors: those of bptt_rtrl_size, BPTT_ENULL (buf or st NULL),
 * BPTT_EBUFFER (bytes too small). */
BPTT_API bptt_status bptt_rtrl_init(const bptt_net *net, size_t Bmax,
                                    void *buf, size_t bytes, bptt_rtrl **st);

/* Release a state (NULL is a no-op). */
BPTT_API void bptt_rtrl_free(bptt_rtrl *st);

/* Start B new sequences at y(0) = y0 (B x dout, ldy0 >= dout; NULL means
 * 0), with no step taken: the next step is the first, and uses eq. (9).
 *
 * Errors: BPTT_ENULL (net or st NULL), BPTT_ESIZE (B is 0), BPTT_ECAPACITY
 * (B > Bmax), BPTT_EMISMATCH (st made for another descriptor), BPTT_ELD,
 * BPTT_EOVERFLOW. */
BPTT_API bptt_status bptt_rtrl_reset(const bptt_net *net, size_t B,
                                     const double *y0, size_t ldy0,
                                     bptt_rtrl *st);

/* ------------------------------------------------------------------------ */
/* Steps                                                                     */
/* ------------------------------------------------------------------------ */

/* Advance the B sequences one step, from t to t+1:
 *
 *     z(t+1) = W [x(t); y(t)] + b,   y(t+1) = f(z(t+1)),
 *     P(t+1) by eq. (9) on the first step after a reset, eq. (10) after,
 *
 * writing y(t+1) to y (B x dout, ldy).  x is B x din (ldx), row b being
 * x(t) of sequence b.  B must be the B of the last reset.
 *
 * Errors: BPTT_ENULL (net, W, x, y or st NULL), BPTT_ESIZE, BPTT_ELD,
 * BPTT_EOVERFLOW, BPTT_EMISMATCH, BPTT_EALGO, BPTT_EINVAL (st not reset,
 * or B differs from the reset's). */
BPTT_API bptt_status bptt_rtrl_advance(const bptt_net *net, size_t B,
                                       const double *W, size_t ldw,
                                       const double *b,
                                       const double *x, size_t ldx,
                                       double *y, size_t ldy,
                                       bptt_rtrl_algo algo, bptt_rtrl *st);

/* The gradient of eq. (11) for the last advance, given dy = ∂L/∂y(t+1)
 * (B x dout, lddy) of any loss of step t+1:
 *
 *     dW = beta·dW + Σ_b reshape(P_b(t+1)ᵀ (dy_b ⊙ f'(z_b(t+1))))
 *     db = beta·db + (the bias columns of the same product)
 *
 * summed over the B sequences.  beta = 0 overwrites (NaN in dW is not
 * read), beta = 1 accumulates (eq. (12) over a stream), as in
 * bptt_backward.  db is optional (NULL: not computed).  It writes one
 * scratch array of the state (dy ⊙ f', B·dout entries) and reads the rest;
 * the sensitivities, the state and the step count are unchanged, so it may
 * be called more than once per advance with the same result.
 *
 * Errors: BPTT_ENULL (net, dy, dW or st NULL), BPTT_ESIZE, BPTT_ELD,
 * BPTT_EOVERFLOW, BPTT_EMISMATCH, BPTT_EALGO, BPTT_ENOFORWARD (no advance
 * since the last reset, or B differs from the reset's), BPTT_EINVAL (beta
 * not finite). */
BPTT_API bptt_status bptt_rtrl_accumulate(const bptt_net *net, size_t B,
                                          const double *dy, size_t lddy,
                                          double beta, double *dW, size_t lddw,
                                          double *db, bptt_rtrl_algo algo,
                                          bptt_rtrl *st);

/* One step with targets: bptt_rtrl_advance, then the squared error of
 * eqs. (1)-(3) against target (B x dout, ldt),
 *
 *     loss = Σ_{b: mask[b]} ½‖y_b(t+1) − ŷ_b(t+1)‖²,
 *
 * then bptt_rtrl_accumulate with dy = y − ŷ on the masked rows (0 on the
 * others; beta applies even if no row has a target).  mask has B bytes, or
 * is NULL (every sequence has a target this step).  y (B x dout, ldy), loss
 * and db are optional.  beta = 0 gives the step's own gradient, for online
 * learning; beta = 1 sums the steps' gradients (eq. (12)).
 *
 * Errors: those of bptt_rtrl_advance and bptt_rtrl_accumulate (target and
 * dW are required); nothing is written if any argument is invalid. */
BPTT_API bptt_status bptt_rtrl_step(const bptt_net *net, size_t B,
                                    const double *W, size_t ldw,
                                    const double *b,
                                    const double *x, size_t ldx,
                                    const double *target, size_t ldt,
                                    const unsigned char *mask,
                                    double *y, size_t ldy, double *loss,
                                    double beta, double *dW, size_t lddw,
                                    double *db, bptt_rtrl_algo algo,
                                    bptt_rtrl *st);

/* A whole sequence offline: bptt_rtrl_reset(y0), then T calls of
 * bptt_rtrl_step with W and b fixed, the steps' gradients summed (eq. (12)):
 *
 *     dW = beta·dW + Σ_t ∂L(t+1)/∂W,   db likewise,
 *     loss = Σ_t Σ_{b: mask} ½‖y(t+1) − ŷ(t+1)‖²,
 *
 * the same loss, dW and db as bptt_forward + bptt_loss_squared +
 * bptt_backward on the same arguments (to rounding).  x is (T*B) x din,
 * target (T*B) x dout, mask T*B bytes as in bptt_loss_squared (or NULL),
 * y (T*B) x dout (optional: NULL writes no output), loss and db optional.
 * The state is left after step T, so bptt_rtrl_step may continue the
 * sequences.
 *
 * Errors: BPTT_ENULL (net, W, x, target, dW or st NULL), BPTT_ESIZE (T or
 * B is 0), BPTT_ELD, BPTT_EOVERFLOW, BPTT_ECAPACITY (B > Bmax),
 * BPTT_EMISMATCH, BPTT_EALGO, BPTT_EINVAL (beta not finite). */
BPTT_API bptt_status bptt_rtrl_sequence(const bptt_net *net, size_t T,
                                        size_t B, const double *W, size_t ldw,
                                        const double *b,
                                        const double *x, size_t ldx,
                                        const double *y0, size_t ldy0,
                                        const double *target, size_t ldt,
                                        const unsigned char *mask,
                                        double *y, size_t ldy, double *loss,
                                        double beta, double *dW, size_t lddw,
                                        double *db, bptt_rtrl_algo algo,
                                        bptt_rtrl *st);

/* ------------------------------------------------------------------------ */
/* Single precision: the same functions with float (documented above).      */
/* ------------------------------------------------------------------------ */

BPTT_API bptt_status bpttf_rtrl_size(const bptt_net *net, size_t Bmax,
                                     size_t *bytes);
BPTT_API bptt_status bpttf_rtrl_alloc(const bptt_net *net, size_t Bmax,
                                      bpttf_rtrl **st);
BPTT_API bptt_status bpttf_rtrl_init(const bptt_net *net, size_t Bmax,
                                     void *buf, size_t bytes, bpttf_rtrl **st);
BPTT_API void bpttf_rtrl_free(bpttf_rtrl *st);
BPTT_API bptt_status bpttf_rtrl_reset(const bptt_net *net, size_t B,
                                      const float *y0, size_t ldy0,
                                      bpttf_rtrl *st);
BPTT_API bptt_status bpttf_rtrl_advance(const bptt_net *net, size_t B,
                                        const float *W, size_t ldw,
                                        const float *b,
                                        const float *x, size_t ldx,
                                        float *y, size_t ldy,
                                        bptt_rtrl_algo algo, bpttf_rtrl *st);
BPTT_API bptt_status bpttf_rtrl_accumulate(const bptt_net *net, size_t B,
                                           const float *dy, size_t lddy,
                                           float beta, float *dW, size_t lddw,
                                           float *db, bptt_rtrl_algo algo,
                                           bpttf_rtrl *st);
BPTT_API bptt_status bpttf_rtrl_step(const bptt_net *net, size_t B,
                                     const float *W, size_t ldw,
                                     const float *b,
                                     const float *x, size_t ldx,
                                     const float *target, size_t ldt,
                                     const unsigned char *mask,
                                     float *y, size_t ldy, double *loss,
                                     float beta, float *dW, size_t lddw,
                                     float *db, bptt_rtrl_algo algo,
                                     bpttf_rtrl *st);
BPTT_API bptt_status bpttf_rtrl_sequence(const bptt_net *net, size_t T,
                                         size_t B, const float *W, size_t ldw,
                                         const float *b,
                                         const float *x, size_t ldx,
                                         const float *y0, size_t ldy0,
                                         const float *target, size_t ldt,
                                         const unsigned char *mask,
                                         float *y, size_t ldy, double *loss,
                                         float beta, float *dW, size_t lddw,
                                         float *db, bptt_rtrl_algo algo,
                                         bpttf_rtrl *st);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_RTRL_H */
