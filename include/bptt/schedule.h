/*
 * bptt/schedule.h — memory-bounded BPTT for Network A: the exact gradient
 * of a long sequence under a byte budget, by storing some states y(t)
 * (checkpoints) and recomputing the steps between them (Griewank &
 * Walther's binomial checkpointing, Revolve; Gruslys et al.'s dynamic
 * program), and truncated BPTT(h; h') for streams (Williams & Peng 1990).
 * Include <bptt.h> rather than this file.  Shapes and layouts are those of
 * bptt/network.h (time-major, row t*B + b).
 *
 * Every function exists in double precision as bptt_<name> and in single
 * precision as bpttf_<name> (float, bpttf_schedule), except
 * bptt_schedule_cost, which does not depend on the precision.
 *
 * How a schedule works (docs/schedule.md).  The T steps are cut into
 * n = ceil(T/L) segments of L steps (the last may be shorter).  Between
 * segments, only states y(t) at segment starts are stored: B x dout numbers
 * each, in "slots".  A segment is run forward from its start state by
 * bptt_forward in pieces of I steps (1 <= I <= L) on an inner workspace of
 * I steps, its y kept (L x B x dout numbers); then its pieces are
 * back-propagated by bptt_backward from the last down, each piece's
 * backward's dy0 added to dL/dy at the end of the piece before it (so the
 * gradient is exact), dW and db accumulating.  The last piece uses the
 * workspace its forward left; the others' workspaces are rebuilt from the
 * kept y without running the forward again ("restaged": s(t) = [x(t);
 * y(t)] and f'(z) from y = f(z), which the tanh, logistic, identity and
 * ReLU units allow; with other units I = L).  So a segment's steps are run
 * forward once for its backward, and the states at later segment starts
 * are recomputed from the nearest slot.  The planner chooses L, I and the
 * number of slots M within the budget, and the order of stores and
 * recomputations that minimises the forward steps (a dynamic program over
 * segments, exact for n segments and M slots).
 *
 * Bytes of a schedule, r = sizeof(double) (sizeof(float) for bpttf_),
 * up(k) = k rounded up to a multiple of 64:
 *
 *   bytes = 256 + up(ws(I)) + up(r·L·B·dout) + up(r·I·B·dout)
 *               + up(r·M·B·dout) + 3·up(r·B·dout) + up(r·dout·(din+dout+1))
 *               + up(4·(n+1)·(M+1))
 *
 * with ws(I) = bptt_workspace_size(net, I, B): the inner workspace, the
 * segment's y, a piece's dL/dy, the M slots, the running state and the
 * carried dL/dy, the accumulated dW and db, and the planner's table.
 * Bytes per stored step: r·B·dout (a slot or a kept y), against
 * r·B·(din+3·dout) per step of a full-storage workspace plus the caller's
 * y and dL/dy arrays.
 */
#ifndef BPTT_SCHEDULE_H
#define BPTT_SCHEDULE_H

#include "bptt/elman.h"
#include "bptt/network.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque schedules (plan and workspace in one block), one per precision. */
typedef struct bptt_schedule bptt_schedule;
typedef struct bpttf_schedule bpttf_schedule;

/* What a schedule will do (bptt_schedule_info). */
typedef struct bptt_schedule_info {
    size_t T, B;          /* the sequence it was planned for */
    size_t seg;           /* L, steps per segment */
    size_t piece;         /* I, steps of the inner workspace (<= L) */
    size_t segments;      /* n = ceil(T / L) */
    size_t slots;         /* M, stored states besides y0 */
    size_t forward_steps; /* steps run forward in all, T of them the first
                             time: forward_steps - T are recomputed */
    size_t bytes;         /* the schedule's block: all the memory a run uses
                             besides the caller's arrays; <= the budget */
    size_t full_bytes;    /* bptt_workspace_size(net, T, B), full storage */
} bptt_schedule_info;

/* The loss callback of bptt_schedule_run: given y(t0+1) .. y(t0+n) of B
 * sequences (rows k*B + b of y, k = 0..n-1, ld ldy), write dL/dy of those
 * rows into dy (ld lddy) and ADD the loss of those steps to *loss (never
 * NULL).  It is called exactly once per piece, from the last piece down to
 * the first (recomputations that only advance the state do not call it),
 * so it may accumulate its own gradients, as Network B's head does.  Return BPTT_OK, or any other status to stop the run
 * (bptt_schedule_run returns it).  ctx is the run's ctx. */
typedef bptt_status (*bptt_dy_fn)(void *ctx, size_t t0, size_t n, size_t B,
                                  const double *y, size_t ldy, double *dy,
                                  size_t lddy, double *loss);
typedef bptt_status (*bpttf_dy_fn)(void *ctx, size_t t0, size_t n, size_t B,
                                   const float *y, size_t ldy, float *dy,
                                   size_t lddy, double *loss);

/* Forward steps that reverse T steps in segments of L steps with M slots,
 * in the schedule bptt_schedule_plan would run (the dynamic program over
 * n = ceil(T/L) segments: with M slots and a segment's start stored, the
 * best first store point y minimises y + C(n-y, M-1) + C(y, M), C(1, ·) = 1,
 * C(k, 0) = k(k+1)/2, in segments; the count is then taken in steps).  M
 * is cut as bptt_schedule_plan_fixed cuts it.  A pure query: allocates and
 * frees its table.
 *
 * Errors: BPTT_ENULL (steps NULL), BPTT_ESIZE (T or L is 0),
 * BPTT_EOVERFLOW (the table or the count does not fit), BPTT_ENOMEM. */
BPTT_API bptt_status bptt_schedule_cost(size_t T, size_t L, size_t M,
                                        size_t *steps);

/* The smallest budget bptt_schedule_plan accepts for net, T and B: one
 * segment of one step and no slot (the running state only).
 *
 * Errors: BPTT_ENULL (net or bytes NULL), BPTT_ESIZE (T or B is 0),
 * BPTT_EOVERFLOW. */
BPTT_API bptt_status bptt_schedule_min_bytes(const bptt_net *net, size_t T,
                                             size_t B, size_t *bytes);

/* Plan T steps of B sequences for net within budget bytes and allocate
 * the schedule (its bytes, see above, never exceed budget).  Among the
 * segment lengths L tried (ceil(T/n) for the segment counts n = ceil(T/L')
 * of L' = 1, 2, 3, 4, 5, 6, 8, ... growing by about a quarter, and T: even
 * segments, the last, whose forward is not repeated, as long as the
 * others), the pieces I = ceil(L/2^j) (I = L only, with softplus
 * or custom units), each with as many slots as the budget leaves and the
 * schedule of fewest forward steps for them (bptt_schedule_cost), the one
 * of least modelled time wins: 2·B·dout·(din+dout) flops per forward step
 * plus 2·10^6 per forward or backward call (packing Wy, the fixed part of
 * a piece's GEMMs), the longer segment and piece on a tie.  The
 * planner's own work is bounded (n²·M ≤ 3·10^7 per L: a larger M is cut,
 * which keeps the plan valid and within budget).  The schedule refers to
 * net, which must outlive it; one thread at a time.  Free it with
 * bptt_schedule_free().
 *
 * Errors: BPTT_ENULL (net or s NULL), BPTT_ESIZE (T or B is 0),
 * BPTT_EBUFFER (budget below bptt_schedule_min_bytes: the detail gives the
 * minimum), BPTT_EOVERFLOW, BPTT_ENOMEM.  On error *s is not written. */
BPTT_API bptt_status bptt_schedule_plan(const bptt_net *net, size_t T,
                                        size_t B, size_t budget,
                                        bptt_schedule **s);

/* The same with the segment length L and the slot count M given (M is cut
 * to n - 1, beyond which slots are of no use, and to the planner's work
 * bound n²·M ≤ 3·10^7), pieces of I = L steps: for tests and benchmarks.
 * Errors: as bptt_schedule_plan, and BPTT_EINVAL (L > T); no budget. */
BPTT_API bptt_status bptt_schedule_plan_fixed(const bptt_net *net, size_t T,
                                              size_t B, size_t L, size_t M,
                                              bptt_schedule **s);

/* bptt_schedule_plan_fixed with pieces of I steps (see "How a schedule
 * works"): for tests and benchmarks.  Errors: as bptt_schedule_plan_fixed,
 * and BPTT_EINVAL (I = 0, I > L, or I < L with a unit whose f' does not
 * follow from y: softplus or custom). */
BPTT_API bptt_status bptt_schedule_plan_pieces(const bptt_net *net, size_t T,
                                               size_t B, size_t L, size_t M,
                                               size_t piece, bptt_schedule **s);

/* Release a schedule (NULL is a no-op). */
BPTT_API void bptt_schedule_free(bptt_schedule *s);

/* Describe s into *info.  Errors: BPTT_ENULL (s or info NULL). */
BPTT_API bptt_status bptt_schedule_info_get(const bptt_schedule *s,
                                            bptt_schedule_info *info);

/* Run the schedule: forward over the T steps from y0 (NULL: 0), the loss
 * callback dyfn on each segment's y, and the exact gradient of the summed
 * loss, as bptt_forward + bptt_backward with full storage would give it
 * (to rounding: segment boundaries change the order of a few sums).
 *
 *   dW = beta·dW + dL/dW,  db, dx, dy0 likewise (each optional, NULL: not
 *   computed; beta = 0 does not read the old contents);
 *   yT (B x dout, ld ldyT, optional) = y(T), the final state, to pass as
 *   y0 of the next chunk;  *loss (optional) = the sum of the callback's
 *   losses.
 *
 * W, b, x, y0 are as for bptt_forward over T steps of B sequences, with
 * the net, T and B of the plan.  No memory is allocated.
 *
 * Errors: BPTT_ENULL (s, W, x or dyfn NULL), BPTT_ELD, BPTT_EOVERFLOW,
 * BPTT_EINVAL (beta not finite), or the status a callback returned.  On
 * every error dW, db, dy0, yT and *loss are not written; dx is not written
 * on an argument error, but after a callback's error the rows of the steps
 * already back-propagated (those after the failing piece) hold their
 * result: keeping them back would take a T x B x din array, the size of
 * dx itself (docs/schedule.md). */
BPTT_API bptt_status bptt_schedule_run(bptt_schedule *s, const double *W,
                                       size_t ldw, const double *b,
                                       const double *x, size_t ldx,
                                       const double *y0, size_t ldy0,
                                       bptt_dy_fn dyfn, void *ctx, double beta,
                                       double *dW, size_t lddw, double *db,
                                       double *dx, size_t lddx, double *dy0,
                                       size_t lddy0, double *yT, size_t ldyT,
                                       double *loss);

/* bptt_schedule_run with the squared error of bptt_loss_squared as the
 * loss: target (T*B) x dout (ld ldt), mask T*B bytes or NULL. */
BPTT_API bptt_status bptt_schedule_run_squared(
    bptt_schedule *s, const double *W, size_t ldw, const double *b,
    const double *x, size_t ldx, const double *y0, size_t ldy0,
    const double *target, size_t ldt, const unsigned char *mask, double beta,
    double *dW, size_t lddw, double *db, double *dx, size_t lddx, double *dy0,
    size_t lddy0, double *yT, size_t ldyT, double *loss);

/* ------------------------------------------------------------------------ */
/* Network B (bptt/elman.h)                                                  */
/* ------------------------------------------------------------------------ */

/* The same for Network B, el's core with its head (softmax and cross-
 * entropy against labels or soft labels L, or the linear head's squared
 * error against L).  Each segment's head runs on its rows as in
 * bptt_elman_forward/backward; the head's arrays add
 *
 *   up(r·(2·I·B·nout + nout·(dout+1)))
 *
 * bytes to the formula above (its ȳ and dȳ rows, and the accumulated dWo
 * and dbo).  bptt_schedule_info_get, bptt_schedule_free and the other
 * calls take the result as any schedule; run it with
 * bptt_schedule_elman_run only.  el must outlive the schedule.
 *
 * Errors: as bptt_schedule_min_bytes, bptt_schedule_plan and
 * bptt_schedule_plan_fixed, with BPTT_ENULL for el NULL. */
BPTT_API bptt_status bptt_schedule_elman_min_bytes(const bptt_elman *el,
                                                   size_t T, size_t B,
                                                   size_t *bytes);
BPTT_API bptt_status bptt_schedule_elman_plan(const bptt_elman *el, size_t T,
                                              size_t B, size_t budget,
                                              bptt_schedule **s);
BPTT_API bptt_status bptt_schedule_elman_plan_fixed(const bptt_elman *el,
                                                    size_t T, size_t B,
                                                    size_t L, size_t M,
                                                    bptt_schedule **s);

/* Run a Network B schedule: the exact gradient of the head's loss over the
 * T steps, as bptt_elman_forward + bptt_elman_backward with full storage
 * would give it (to rounding).  Arguments as bptt_elman_forward/backward
 * (h0: the initial hidden state, NULL 0; labels or L as the head needs),
 * with every gradient optional and beta as bptt_schedule_run; *E
 * (optional) the loss.
 *
 * Errors: BPTT_ENULL (s, el, W, Wo or x NULL, targets missing),
 * BPTT_EMISMATCH (s not planned for el), BPTT_ELD, BPTT_EINVAL (beta, or a
 * target, as bptt_elman_forward).  On error nothing is written. */
BPTT_API bptt_status bptt_schedule_elman_run(
    bptt_schedule *s, const bptt_elman *el, const double *W, size_t ldw,
    const double *bh, const double *Wo, size_t ldwo, const double *bo,
    const double *x, size_t ldx, const double *h0, size_t ldh0,
    const int *labels, const double *L, size_t ldl, double beta, double *dW,
    size_t lddw, double *dbh, double *dWo, size_t lddwo, double *dbo,
    double *dx, size_t lddx, double *dh0, size_t lddh0, double *E);

/* ------------------------------------------------------------------------ */
/* Truncated BPTT(h; h') for streams                                          */
/* ------------------------------------------------------------------------ */

/* Opaque stream states, one per precision. */
typedef struct bptt_tbptt bptt_tbptt;
typedef struct bpttf_tbptt bpttf_tbptt;

/* Allocate the state of a stream of B sequences for truncated BPTT(h; h')
 * (Williams & Peng 1990): each call of bptt_tbptt_step brings n <= h' new
 * steps and takes the gradient of their loss back through the last h steps
 * of the stream (1 <= h' <= h).  The state keeps the last h steps' inputs
 * and states and an inner workspace of h steps:
 *
 *   bytes = 256 + up(ws(h)) + 2·up(r·h·B·din) + 3·up(r·h·B·dout)
 *               + up(r·B·dout),   ws(h) = bptt_workspace_size(net, h, B),
 *
 * independent of the stream's length.  The stream starts from y(0) = 0
 * (see bptt_tbptt_reset).  net must outlive the state; free it with
 * bptt_tbptt_free().
 *
 * Errors: BPTT_ENULL (net or tb NULL), BPTT_ESIZE (h, h' or B is 0),
 * BPTT_EINVAL (h' > h), BPTT_EOVERFLOW, BPTT_ENOMEM. */
BPTT_API bptt_status bptt_tbptt_alloc(const bptt_net *net, size_t h,
                                      size_t hp, size_t B, bptt_tbptt **tb);

/* Release a stream state (NULL is a no-op). */
BPTT_API void bptt_tbptt_free(bptt_tbptt *tb);

/* Start a new stream from y(0) = y0 (B x dout, ld ldy0; NULL: 0),
 * forgetting the history.  Errors: BPTT_ENULL (tb NULL), BPTT_ELD. */
BPTT_API bptt_status bptt_tbptt_reset(bptt_tbptt *tb, const double *y0,
                                      size_t ldy0);

/* The next n steps of the stream (1 <= n <= h'): x (n*B x din, ld ldx)
 * their inputs.  The window is the last w = min(h, steps so far) steps,
 * ending with the new ones; it is run forward from the stored state at its
 * start (its older w - n steps again, with this call's W and b), dyfn
 * gives dL/dy of the n new steps (t0 counts from the stream's start; the
 * older steps of the window get no loss), and
 *
 *   dW = beta·dW + dL/dW,  db = beta·db + dL/db   over the window,
 *
 * each optional.  y (optional, n*B x dout, ld ldy) receives y of the new
 * steps; *loss (optional) the callback's loss.  With h = h' = T, one call
 * after a reset is bptt_forward + bptt_backward over the T steps (the
 * same arithmetic: bitwise equal).  Inputs and states are kept in tb, so
 * x may be reused by the caller after the call.
 *
 * Errors: BPTT_ENULL (tb, W, x or dyfn NULL), BPTT_ESIZE (n is 0),
 * BPTT_ECAPACITY (n > h'), BPTT_ELD, BPTT_EINVAL (beta not finite), or the
 * status the callback returned.  On every error nothing is written and the
 * stream does not advance. */
BPTT_API bptt_status bptt_tbptt_step(bptt_tbptt *tb, size_t n,
                                     const double *W, size_t ldw,
                                     const double *b, const double *x,
                                     size_t ldx, bptt_dy_fn dyfn, void *ctx,
                                     double beta, double *dW, size_t lddw,
                                     double *db, double *y, size_t ldy,
                                     double *loss);

/* Truncated BPTT(h; h') for Network B: the state of bptt_tbptt_alloc with
 * the head's arrays, up(r·(2·h'·B·nout + nout·(dout+1))) more bytes.  Reset
 * and free it as any stream state; step it with bptt_tbptt_elman_step or
 * bptt_tbptt_elman_step_tokens only.
 * el must outlive it; it must have the vanilla (tanh) core.  Errors: as
 * bptt_tbptt_alloc, BPTT_ENULL for el, BPTT_EINVAL for an LSTM or GRU core
 * (bptt_elman_create_cell). */
BPTT_API bptt_status bptt_tbptt_elman_alloc(const bptt_elman *el, size_t h,
                                            size_t hp, size_t B,
                                            bptt_tbptt **tb);

/* bptt_tbptt_step for Network B: the head (bptt/elman.h) on the n new
 * steps gives their loss against labels or L (n*B rows, for those steps
 * only) and dL/dh; dWo = beta·dWo + Σ dȳᵀ h and dbo likewise over the new
 * steps; dW, dbh over the window as bptt_tbptt_step.  h (optional, n*B x
 * dout, ld ldh) receives the new hidden states, *E (optional) the loss.
 * With h = h' = T one step after a reset is bptt_elman_forward +
 * bptt_elman_backward (without dx, dh0).
 *
 * Errors: those of bptt_tbptt_step (its detail may name bptt_tbptt_step),
 * BPTT_ENULL (el or Wo NULL, targets missing), BPTT_EMISMATCH (tb not
 * made for el), BPTT_EINVAL (a target, as bptt_elman_forward).  On every
 * error nothing is written and the stream does not advance. */
BPTT_API bptt_status bptt_tbptt_elman_step(
    bptt_tbptt *tb, const bptt_elman *el, size_t n, const double *W,
    size_t ldw, const double *bh, const double *Wo, size_t ldwo,
    const double *bo, const double *x, size_t ldx, const int *labels,
    const double *L, size_t ldl, double beta, double *dW, size_t lddw,
    double *dbh, double *dWo, size_t lddwo, double *dbo, double *h,
    size_t ldh, double *E);

/* bptt_tbptt_elman_step for a stream of token ids (char-rnn): tokens
 * (int32, n*B ids, tokens[t*B + b] new step t of sequence b, each in
 * [0, din)) in place of x and ldx, run by bptt_forward_tokens and
 * bptt_backward_tokens (bptt/network.h: a gather of Wi's columns forward,
 * a scatter-add into dWi backward).  The state keeps the window's ids, not
 * one-hot rows; results equal bptt_tbptt_elman_step's on the one-hot rows
 * of the same ids (bptt_tokens_onehot) to rounding.  A stream is of one
 * kind: after a dense step, a token step (and after a token step, a dense
 * one) is refused until bptt_tbptt_reset.
 *
 * Errors: those of bptt_tbptt_elman_step, BPTT_ENULL (tokens NULL),
 * BPTT_EINVAL (an id outside [0, din), the detail naming its index, step
 * and sequence within the call, and value; a stream whose history holds
 * dense inputs).  On every error nothing is written and the stream does
 * not advance. */
BPTT_API bptt_status bptt_tbptt_elman_step_tokens(
    bptt_tbptt *tb, const bptt_elman *el, size_t n, const double *W,
    size_t ldw, const double *bh, const double *Wo, size_t ldwo,
    const double *bo, const int32_t *tokens, const int *labels,
    const double *L, size_t ldl, double beta, double *dW, size_t lddw,
    double *dbh, double *dWo, size_t lddwo, double *dbo, double *h,
    size_t ldh, double *E);

/* ------------------------------------------------------------------------ */
/* Single precision: the same functions with float (documented above).      */
/* ------------------------------------------------------------------------ */

BPTT_API bptt_status bpttf_schedule_min_bytes(const bptt_net *net, size_t T,
                                              size_t B, size_t *bytes);
BPTT_API bptt_status bpttf_schedule_plan(const bptt_net *net, size_t T,
                                         size_t B, size_t budget,
                                         bpttf_schedule **s);
BPTT_API bptt_status bpttf_schedule_plan_fixed(const bptt_net *net, size_t T,
                                               size_t B, size_t L, size_t M,
                                               bpttf_schedule **s);
BPTT_API bptt_status bpttf_schedule_plan_pieces(const bptt_net *net, size_t T,
                                                size_t B, size_t L, size_t M,
                                                size_t piece, bpttf_schedule **s);
BPTT_API void bpttf_schedule_free(bpttf_schedule *s);
BPTT_API bptt_status bpttf_schedule_info_get(const bpttf_schedule *s,
                                             bptt_schedule_info *info);
BPTT_API bptt_status bpttf_schedule_run(bpttf_schedule *s, const float *W,
                                        size_t ldw, const float *b,
                                        const float *x, size_t ldx,
                                        const float *y0, size_t ldy0,
                                        bpttf_dy_fn dyfn, void *ctx,
                                        float beta, float *dW, size_t lddw,
                                        float *db, float *dx, size_t lddx,
                                        float *dy0, size_t lddy0, float *yT,
                                        size_t ldyT, double *loss);
BPTT_API bptt_status bpttf_schedule_run_squared(
    bpttf_schedule *s, const float *W, size_t ldw, const float *b,
    const float *x, size_t ldx, const float *y0, size_t ldy0,
    const float *target, size_t ldt, const unsigned char *mask, float beta,
    float *dW, size_t lddw, float *db, float *dx, size_t lddx, float *dy0,
    size_t lddy0, float *yT, size_t ldyT, double *loss);

BPTT_API bptt_status bpttf_schedule_elman_min_bytes(const bptt_elman *el,
                                                    size_t T, size_t B,
                                                    size_t *bytes);
BPTT_API bptt_status bpttf_schedule_elman_plan(const bptt_elman *el, size_t T,
                                               size_t B, size_t budget,
                                               bpttf_schedule **s);
BPTT_API bptt_status bpttf_schedule_elman_plan_fixed(const bptt_elman *el,
                                                     size_t T, size_t B,
                                                     size_t L, size_t M,
                                                     bpttf_schedule **s);
BPTT_API bptt_status bpttf_schedule_elman_run(
    bpttf_schedule *s, const bptt_elman *el, const float *W, size_t ldw,
    const float *bh, const float *Wo, size_t ldwo, const float *bo,
    const float *x, size_t ldx, const float *h0, size_t ldh0,
    const int *labels, const float *L, size_t ldl, float beta, float *dW,
    size_t lddw, float *dbh, float *dWo, size_t lddwo, float *dbo,
    float *dx, size_t lddx, float *dh0, size_t lddh0, double *E);
BPTT_API bptt_status bpttf_tbptt_alloc(const bptt_net *net, size_t h,
                                       size_t hp, size_t B, bpttf_tbptt **tb);
BPTT_API void bpttf_tbptt_free(bpttf_tbptt *tb);
BPTT_API bptt_status bpttf_tbptt_reset(bpttf_tbptt *tb, const float *y0,
                                       size_t ldy0);
BPTT_API bptt_status bpttf_tbptt_step(bpttf_tbptt *tb, size_t n,
                                      const float *W, size_t ldw,
                                      const float *b, const float *x,
                                      size_t ldx, bpttf_dy_fn dyfn, void *ctx,
                                      float beta, float *dW, size_t lddw,
                                      float *db, float *y, size_t ldy,
                                      double *loss);
BPTT_API bptt_status bpttf_tbptt_elman_alloc(const bptt_elman *el, size_t h,
                                             size_t hp, size_t B,
                                             bpttf_tbptt **tb);
BPTT_API bptt_status bpttf_tbptt_elman_step(
    bpttf_tbptt *tb, const bptt_elman *el, size_t n, const float *W,
    size_t ldw, const float *bh, const float *Wo, size_t ldwo,
    const float *bo, const float *x, size_t ldx, const int *labels,
    const float *L, size_t ldl, float beta, float *dW, size_t lddw,
    float *dbh, float *dWo, size_t lddwo, float *dbo, float *h, size_t ldh,
    double *E);
BPTT_API bptt_status bpttf_tbptt_elman_step_tokens(
    bpttf_tbptt *tb, const bptt_elman *el, size_t n, const float *W,
    size_t ldw, const float *bh, const float *Wo, size_t ldwo,
    const float *bo, const int32_t *tokens, const int *labels,
    const float *L, size_t ldl, float beta, float *dW, size_t lddw,
    float *dbh, float *dWo, size_t lddwo, float *dbo, float *h, size_t ldh,
    double *E);

#ifdef __cplusplus
}
#endif

#endif /* BPTT_SCHEDULE_H */
